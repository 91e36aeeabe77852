#!/bin/sh
# demo.sh -- show what cgops does (placeholder until the example program lands)
set -eu
exec "$1"
