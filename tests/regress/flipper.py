"""flipper.py PORTFILE UPSTREAM_PORT AT: a one-connection TCP proxy on a
port the kernel picks (written to PORTFILE) to 127.0.0.1:UPSTREAM_PORT
that flips one bit of the byte at offset AT of what the upstream sends
back (the served peer's sealed frames), to test how a receiver meets a
frame that fails authentication (regress 055)."""
import os
import socket
import sys
import threading

portfile, up, at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
c, _ = ls.accept()
u = socket.create_connection(("127.0.0.1", up))


def pump(src, dst, flip):
    seen = 0
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if flip and seen <= at < seen + len(b):
                b = bytearray(b)
                b[at - seen] ^= 0x10
                b = bytes(b)
            seen += len(b)
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


t = threading.Thread(target=pump, args=(c, u, False))
t.start()
pump(u, c, True)
t.join()
