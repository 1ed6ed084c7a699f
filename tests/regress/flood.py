# Strangers without the network key: opens N connections to HOST:PORT and
# holds them. A third declare a 64 KiB handshake message and send 60,000
# bytes of it, a third declare 48 bytes and send nothing more (idle), a
# third declare 255 and trickle one byte every half second (slow). Writes
# READY once every connection was attempted; stops when STOP exists or
# after 60 s. Refused or closed connections are fine: that is the point.
import os
import socket
import sys
import time

host, port, n, ready, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
socks, slow = [], []
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        kind = i % 3
        if kind == 0:
            s.send(b"\xff\xff" + b"\x5a" * 60000)
        elif kind == 1:
            s.send(b"\x00\x30")
        else:
            s.send(b"\x00\xff" + b"\x5a" * 100)
            slow.append(s)
        socks.append(s)
    except OSError:
        pass
with open(ready, "w") as f:
    f.write("%d\n" % len(socks))
end = time.time() + 60
while time.time() < end and not os.path.exists(stop):
    for s in slow:
        try:
            s.send(b"\x5a")
        except OSError:
            pass
    time.sleep(0.5)
for s in socks:
    s.close()
