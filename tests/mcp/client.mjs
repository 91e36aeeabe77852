// client.mjs -- the official MCP SDK client against `cgops mcp` (tests/cli/80-mcp.sh)
//
// Spawns cgops mcp through the SDK's StdioClientTransport, lists the tools
// and calls each against the fixtures the shell started, checking the
// structured results against what the shell knows independently: the pids
// it started, its own pid (their parent), the goroutines it asked parkfix to
// park (-park N), the GC percent this test itself set.  The SDK validates
// every structuredContent against the tool's outputSchema.  It writes the
// goroutines result to $OUT_DIR for the shell to compare with the runtime's
// own dump.  One line per check, "ok: ..." or "FAIL: ..."; exit 1 on any
// failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { writeFileSync } from "node:fs";

const env = process.env;
const CGOPS = env.CGOPS;
const PARK_PID = Number(env.PARK_PID);
const PARK_N = Number(env.PARK_N);
const AGENT_PID = Number(env.AGENT_PID);
const SCRIPT_PID = Number(env.SCRIPT_PID);
const HEAP_FILE = env.HEAP_FILE;
const OUT_DIR = env.OUT_DIR;
let fails = 0;

function check(cond, what, detail) {
  if (cond) {
    console.log(`ok: ${what}`);
  } else {
    fails++;
    console.log(`FAIL: ${what}${detail === undefined ? "" : ": " + String(detail).slice(0, 600)}`);
  }
}

async function connect(args) {
  const transport = new StdioClientTransport({
    command: CGOPS,
    args: ["mcp", ...args],
    env: { ...env }, // the gops config dir, ASAN_OPTIONS
    stderr: "inherit",
  });
  const client = new Client({ name: "cgops-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

// A call whose result must not be an error; returns it.
async function ok(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  check(!r.isError && r.structuredContent, `${name} ${JSON.stringify(args)} answers`, r.content?.[0]?.text);
  check(r.content?.[0]?.type === "text" && r.content[0].text.length > 0, `${name}: readable text`);
  return r;
}

async function refused(client, name, args, needle) {
  const r = await client.callTool({ name, arguments: args });
  const text = r.content?.[0]?.text ?? "";
  check(r.isError === true && text.includes(needle), `${name} ${JSON.stringify(args)} is an isError result (${needle})`, text);
}

async function protocolError(client, name, args, code) {
  try {
    const r = await client.callTool({ name, arguments: args });
    check(false, `${name} ${JSON.stringify(args)} is a JSON-RPC error ${code}`, JSON.stringify(r));
  } catch (e) {
    check(e.code === code, `${name} ${JSON.stringify(args)} is a JSON-RPC error ${code}`, `${e.code} ${e.message}`);
  }
}

async function readOnly() {
  const c = await connect([]);
  const info = c.getServerVersion();
  check(info?.name === "cgops", "serverInfo names cgops", JSON.stringify(info));
  check(c.getServerCapabilities()?.tools !== undefined, "capabilities.tools");

  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name).sort();
  const want = ["gc", "goroutines", "list_go_processes", "memstats", "process_info", "profile_top",
    "set_gc_percent", "stack", "summary"];
  check(JSON.stringify(names) === JSON.stringify(want), "tools/list names every tool", names);
  for (const t of tools)
    check(t.title && t.description && t.inputSchema?.type === "object" && t.outputSchema?.type === "object",
      `${t.name}: title, description, inputSchema, outputSchema`);

  await c.ping();
  check(true, "ping");

  // list_go_processes: both fixtures, the agent where there is one.
  let r = await ok(c, "list_go_processes", {});
  const procs = r.structuredContent.processes;
  const park = procs.find((p) => p.pid === PARK_PID), agent = procs.find((p) => p.pid === AGENT_PID);
  check(park && park.agent === false, "the listing has parkfix -noagent, without an agent", JSON.stringify(park));
  check(agent && agent.agent === true, "the listing has agentfix with its agent", JSON.stringify(agent));
  check(r.structuredContent.count === procs.length, "count is the number of processes");

  // process_info: the pid, and this test's shell as its parent.
  r = await ok(c, "process_info", { pid: PARK_PID });
  const pi = r.structuredContent;
  check(pi.pid === PARK_PID && pi.ppid === SCRIPT_PID, "process_info: pid and parent are the fixture's",
    `${pi.pid} ${pi.ppid}`);
  check(pi.threads >= 1 && JSON.stringify(pi.cmdline).includes("-park"), "process_info: threads, command line");

  // goroutines: the N goroutines parkfix parked in main.parkMany, counted.
  r = await ok(c, "goroutines", { pid: PARK_PID, group_by: "location", limit: 100 });
  const g = r.structuredContent;
  const many = g.groups.find((x) => x.key === "main.parkMany");
  check(g.pid === PARK_PID, "goroutines: the pid");
  check(many && many.count === PARK_N, `goroutines: main.parkMany holds the ${PARK_N} parked`, JSON.stringify(many));
  check(many && many.example.frames.some((f) => f.startsWith("main.parkMany ")), "goroutines: an example stack");
  check(g.groups.reduce((a, x) => a + x.count, 0) === g.count && g.groups_total === g.groups.length,
    "goroutines: the groups add up to the count");
  check(r.content[0].text.includes(`${g.count} goroutines`) && r.content[0].text.includes("main.parkMany"),
    "goroutines: the text gives counts", r.content[0].text.slice(0, 300));
  writeFileSync(`${OUT_DIR}/goroutines.json`, JSON.stringify(g));
  r = await ok(c, "goroutines", { pid: PARK_PID, group_by: "wait", limit: 2 });
  check(r.structuredContent.groups.length === 2 && r.structuredContent.count === g.count,
    "goroutines: limit cuts the groups, not the count");
  check(r.structuredContent.groups[0].key === "chan receive" && r.structuredContent.groups[0].count >= PARK_N,
    "goroutines by wait: chan receive first", JSON.stringify(r.structuredContent.groups[0]));

  // summary: the same process, the same goroutines.
  r = await ok(c, "summary", { pid: PARK_PID });
  check(r.structuredContent.pid === PARK_PID, "summary: the pid");
  writeFileSync(`${OUT_DIR}/summary.json`, JSON.stringify(r.structuredContent));

  // memstats: from the agent, and from memory.
  r = await ok(c, "memstats", { target: AGENT_PID });
  check(r.structuredContent.heap_alloc > 0 && r.structuredContent.num_gc >= 0, "memstats from the agent");
  r = await ok(c, "memstats", { target: String(PARK_PID) });
  check(r.structuredContent.heap_alloc > 0, "memstats from memory (no agent)");

  // stack: the agent's reply, and memory's, which counts as goroutines does.
  r = await ok(c, "stack", { target: AGENT_PID, limit: 3 });
  check(r.structuredContent.source === "agent" && r.structuredContent.goroutines.length <= 3 &&
    r.structuredContent.count >= 1, "stack from the agent, limited", JSON.stringify(r.structuredContent).slice(0, 300));
  r = await ok(c, "stack", { target: PARK_PID });
  check(r.structuredContent.source === "memory" && r.structuredContent.count === g.count,
    "stack from memory counts the goroutines", `${r.structuredContent.count} ${g.count}`);

  // profile_top: a heap profile from the agent; a saved file.
  r = await ok(c, "profile_top", { target: AGENT_PID, kind: "heap", top: 5 });
  check(r.structuredContent.sample_type === "inuse_space" && r.structuredContent.functions.length <= 5,
    "profile_top heap: inuse_space, top 5", JSON.stringify(r.structuredContent).slice(0, 300));
  r = await ok(c, "profile_top", { file: HEAP_FILE, kind: "allocs", top: 3 });
  check(r.structuredContent.sample_type === "alloc_space" && r.structuredContent.functions.length <= 3,
    "profile_top of a file, allocs: alloc_space", JSON.stringify(r.structuredContent).slice(0, 300));

  // Read-only: what changes the target is refused, as a tool error.
  await refused(c, "profile_top", { target: AGENT_PID, kind: "cpu" }, "--allow-write");
  await refused(c, "gc", { target: AGENT_PID }, "--allow-write");
  await refused(c, "set_gc_percent", { target: AGENT_PID, percent: 50 }, "--allow-write");

  // Bad pids are tool errors; bad arguments protocol errors.
  await refused(c, "process_info", { pid: 4000000 }, "4000000");
  await refused(c, "goroutines", { pid: 4000000 }, "4000000");
  await refused(c, "memstats", { target: "127.0.0.1:1" }, "127.0.0.1:1");
  await protocolError(c, "goroutines", { pid: "x" }, -32602);
  await protocolError(c, "goroutines", { pid: PARK_PID, grup_by: "wait" }, -32602);
  await protocolError(c, "no_such_tool", {}, -32602);

  // Calls at once, answered by id.
  const many4 = await Promise.all([1, 2, 3, 4, 5, 6].map(() => c.callTool({ name: "process_info", arguments: { pid: AGENT_PID } })));
  check(many4.every((x) => !x.isError && x.structuredContent.pid === AGENT_PID), "6 calls at once, each answered");
  await c.close();
}

async function writeAllowed() {
  const c = await connect(["--allow-write"]);
  let r = await ok(c, "gc", { target: AGENT_PID });
  check(r.structuredContent.ok === true, "--allow-write: gc runs");
  r = await ok(c, "set_gc_percent", { target: AGENT_PID, percent: 150 });
  check(r.structuredContent.new === 150, "--allow-write: set_gc_percent 150");
  r = await ok(c, "set_gc_percent", { target: AGENT_PID, percent: 100 });
  check(r.structuredContent.previous === 150 && r.structuredContent.new === 100,
    "set_gc_percent: the previous value is the one this test set");
  if (env.MCP_CPU === "1") {
    r = await ok(c, "profile_top", { target: AGENT_PID, kind: "cpu", top: 5 });
    check(r.structuredContent.unit === "nanoseconds", "--allow-write: a CPU profile", JSON.stringify(r.structuredContent).slice(0, 300));
  }
  await c.close();
}

try {
  await readOnly();
  await writeAllowed();
} catch (e) {
  check(false, "the client ran to the end", e.stack);
}
process.exit(fails ? 1 : 0);
