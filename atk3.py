import socket, sys
host,port=sys.argv[1].rsplit(':',1); port=int(port)
def raw(data, wait=3):
    s=socket.create_connection((host,port)); s.settimeout(wait); s.sendall(data); out=b''
    try:
        while True:
            b=s.recv(65536)
            if not b: break
            out+=b
    except Exception as e: out+=b' <'+type(e).__name__.encode()+b'>'
    s.close(); return out
def show(n,d,**k):
    r=raw(d,**k); print('==',n, [l.split(b'\r\n')[0] for l in r.split(b'HTTP/1.1 ')[1:]], r[-30:])
show('TE gzip,chunked', b'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
show('TE space', b'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n')
show('CL neg', b'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n')
show('CL huge', b'POST /api/v1/processes/1/gc HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n')
show('CL plus', b'POST /api/v1/processes/1/gc HTTP/1.1\r\nHost: x\r\nContent-Length: +10\r\nConnection: close\r\n\r\n0123456789')
show('CL space list', b'POST /api/v1/processes/1/gc HTTP/1.1\r\nHost: x\r\nContent-Length: 10, 10\r\nConnection: close\r\n\r\n0123456789')
show('bare LF', b'GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n')
show('no host 1.1', b'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n')
show('http/1.0', b'GET /healthz HTTP/1.0\r\n\r\n')
show('obs fold', b'GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\nConnection: close\r\n\r\n')
show('nul in header', b'GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\nConnection: close\r\n\r\n')
show('auth nul', b'GET /api/v1/processes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b\r\nConnection: close\r\n\r\n')
show('expect', b'POST /api/v1/processes/1/gc HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n')
show('pipelined 413 then get', b'POST /api/v1/processes/1/gc HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n'+b'x'*5000+b'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
show('chunked 413 then get', b'POST /api/v1/processes/1/gc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n'+b'x'*5000+b'\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
