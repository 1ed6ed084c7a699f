/*
 * sync_floor DIR COUNT [BYTES]: the floor of a full sync, as the issue
 * pins it. Two processes over loopback TCP move COUNT entries of BYTES
 * bytes of plaintext (default 1,250, about a ~1 KB note's change) in
 * batches of 1,000:
 *
 *	sender:   per entry an XChaCha20-Poly1305 seal (the header as
 *		  associated data) and a BLAKE2b-256 hash chaining it to the
 *		  one before; per batch one ed25519 signature of the last hash
 *	receiver: per batch one ed25519 verify; per entry an open and an
 *		  LMDB put (appended in key order) into DIR/floor, one durable
 *		  transaction (LMDB's default sync) per batch
 *
 * It prints one line of key=value pairs: entries, secs (from the
 * connection to the last commit), entries_per_s, recv_cpu and send_cpu
 * (CPU seconds, user + system), wire_bytes per entry. Nothing else of
 * Satchel's is used: no msgpack, no records, no indexes. sync_bench.sh
 * runs it beside Satchel's full sync, run for run.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#define BATCH		1000
#define HDR_LEN		(32 + 8 + 32 + 24)	/* author, seq, prev, nonce */
#define ABYTES		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define MAP_SIZE	((size_t)16 << 30)	/* sparse: holds 1M entries */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

struct keys {
	uint8_t	pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t	sk[crypto_sign_SECRETKEYBYTES];
	uint8_t	key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
};

/*
 * A batch on the wire: [n: 4][entry: HDR_LEN + ct]*n [last hash: 32]
 * [signature: 64], after a 4-byte length. Each entry's ciphertext is
 * BYTES + ABYTES long.
 */
static int
sender(int fd, const struct keys *k, long count, size_t bytes)
{
	size_t elen = HDR_LEN + bytes + ABYTES;
	size_t cap = 8 + BATCH * elen + 32 + 64;
	uint8_t *buf = malloc(cap), *pt = malloc(bytes), prev[32] = { 0 };
	unsigned long long clen;
	uint8_t ack;

	if (buf == NULL || pt == NULL)
		return 1;
	randombytes_buf(pt, bytes);
	for (long done = 0; done < count; ) {
		uint32_t n = count - done < BATCH ? (uint32_t)(count - done) :
		    BATCH;
		uint8_t *p = buf + 8;

		for (uint32_t i = 0; i < n; i++, p += elen) {
			crypto_generichash_state st;

			memcpy(p, k->pk, 32);
			be64(p + 32, (uint64_t)(done + i + 1));
			memcpy(p + 40, prev, 32);
			randombytes_buf(p + 72, 24);
			pt[0] = (uint8_t)i;	/* no two alike */
			crypto_aead_xchacha20poly1305_ietf_encrypt(p + HDR_LEN,
			    &clen, pt, bytes, p, HDR_LEN, NULL, p + 72, k->key);
			crypto_generichash_init(&st, NULL, 0, 32);
			crypto_generichash_update(&st, p, elen);
			crypto_generichash_final(&st, prev, 32);
		}
		memcpy(p, prev, 32);
		crypto_sign_detached(p + 32, NULL, prev, 32, k->sk);
		p += 32 + 64;
		be32_put(buf, (uint32_t)(p - buf - 4));	/* length, then n */
		be32_put(buf + 4, n);
		if (write_all(fd, buf, (size_t)(p - buf)) != 0)
			return 1;
		done += n;
	}
	/* The receiver's byte says everything is committed. */
	if (read_all(fd, &ack, 1) != 0)
		return 1;
	free(buf);
	free(pt);
	return 0;
}

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
receive_batch(MDB_env *env, MDB_dbi dbi, const struct keys *k,
    const uint8_t *p, size_t len, size_t bytes, uint8_t *pt, long *got)
{
	size_t elen = HDR_LEN + bytes + ABYTES;
	uint32_t n;
	unsigned long long plen;
	MDB_txn *txn;
	MDB_val key, val;
	uint8_t kbuf[8];

	if (len < 4 || (n = be32_get(p)) == 0 || n > BATCH ||
	    len != 4 + (size_t)n * elen + 32 + 64)
		return -1;
	p += 4;
	if (crypto_sign_verify_detached(p + n * elen + 32, p + n * elen, 32,
	    k->pk) != 0)
		return -1;
	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++, p += elen) {
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL,
		    p + HDR_LEN, bytes + ABYTES, p, HDR_LEN, p + 72,
		    k->key) != 0)
			goto fail;
		memcpy(kbuf, p + 32, 8);	/* seq, big-endian */
		key.mv_size = sizeof(kbuf);
		key.mv_data = kbuf;
		val.mv_size = elen;
		val.mv_data = (void *)p;
		if (mdb_put(txn, dbi, &key, &val, MDB_APPEND) != 0)
			goto fail;
	}
	if (mdb_txn_commit(txn) != 0)
		return -1;
	*got += n;
	return 0;
fail:
	mdb_txn_abort(txn);
	return -1;
}

static int
receiver(int fd, const char *dir, const struct keys *k, long count,
    size_t bytes, double *t1)
{
	uint8_t *frame = NULL, *pt = malloc(bytes + 1), hdr[4], ack = 1;
	size_t cap = 0;
	long got = 0;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc = 1;

	if (pt == NULL || mkdir(dir, 0700) != 0 || mdb_env_create(&env) != 0)
		return 1;
	if (mdb_env_set_mapsize(env, MAP_SIZE) != 0 ||
	    mdb_env_open(env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &dbi) != 0 || mdb_txn_commit(txn) != 0)
		goto out;
	while (got < count) {
		uint32_t len;

		if (read_all(fd, hdr, 4) != 0)
			goto out;
		len = be32_get(hdr);
		if (len > cap) {
			free(frame);
			if ((frame = malloc(len)) == NULL)
				goto out;
			cap = len;
		}
		if (read_all(fd, frame, len) != 0 ||
		    receive_batch(env, dbi, k, frame, len, bytes, pt,
		    &got) != 0)
			goto out;
	}
	*t1 = now_s();
	rc = write_all(fd, &ack, 1) != 0;
out:
	mdb_env_close(env);
	free(frame);
	free(pt);
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: sync_floor DIR COUNT [BYTES]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	struct keys k;
	char dir[4096];
	long count;
	size_t bytes = 1250;
	double t0, t1 = 0, recv_cpu, send_cpu;
	int lfd, fd, one = 1, status;
	pid_t pid;

	if (argc < 3 || argc > 4 || sodium_init() < 0)
		return usage();
	count = atol(argv[2]);
	if (argc == 4)
		bytes = (size_t)atol(argv[3]);
	if (count <= 0 || bytes < 1 || bytes > 65536 ||
	    snprintf(dir, sizeof(dir), "%s/floor", argv[1]) >=
	    (int)sizeof(dir))
		return usage();
	crypto_sign_keypair(k.pk, k.sk);
	crypto_aead_xchacha20poly1305_ietf_keygen(k.key);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) != 0) {
		perror("sync_floor: listen");
		return 1;
	}
	if ((pid = fork()) < 0) {
		perror("sync_floor: fork");
		return 1;
	}
	if (pid == 0) {
		close(lfd);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		_exit(sender(fd, &k, count, bytes));
	}
	if ((fd = accept(lfd, NULL, NULL)) < 0) {
		perror("sync_floor: accept");
		return 1;
	}
	t0 = now_s();
	if (receiver(fd, dir, &k, count, bytes, &t1) != 0) {
		fprintf(stderr, "sync_floor: the receiver failed\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	recv_cpu = cpu_s(RUSAGE_SELF);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sync_floor: the sender failed\n");
		return 1;
	}
	send_cpu = cpu_s(RUSAGE_CHILDREN);
	printf("entries=%ld secs=%.3f entries_per_s=%.0f recv_cpu=%.2f "
	    "send_cpu=%.2f wire_bytes=%zu\n", count, t1 - t0,
	    (double)count / (t1 - t0), recv_cpu, send_cpu,
	    HDR_LEN + bytes + ABYTES + 4);
	return 0;
}
