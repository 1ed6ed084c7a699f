# peakmem.py CMD...: runs CMD (its stdout discarded) and prints
# "EXIT PEAK_RSS_KB PEAK_ANON_KB WALL_S". Peak RSS is the kernel's (it
# counts the store's mapped file pages, which the kernel can drop at
# will); peak anonymous memory (heap, LMDB's dirty pages) is sampled
# from /proc every 10 ms, and is what a 1 GB box must really hold.
import resource
import subprocess
import sys
import time

t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
anon = 0
while p.poll() is None:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = max(anon, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.01)
wall = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(p.returncode, rss, anon, "%.2f" % wall)
