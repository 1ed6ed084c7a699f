# A free loopback TCP port below the kernel's ephemeral range (32768 and
# up), so no outgoing connection can take it between this check and the
# daemon's bind: the caller still retries if its bind fails. Prints it.
import errno
import random
import socket
import sys

for _ in range(200):
    port = random.randint(10000, 32000)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            continue
        raise
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port below 32768")
