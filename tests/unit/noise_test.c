/*
 * Noise handshake engine: the published vectors byte for byte, then the
 * refusals Satchel relies on (tampered, truncated, wrong psk) and API
 * misuse. Links proto/noise.c only.
 *
 * The vectors are read from tests/vectors/noise/vectors.json (run from the
 * repository root) or from $NOISE_VECTORS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"
#include "tap.h"

#define VECTORS_PATH	"tests/vectors/noise/vectors.json"
#define VECTORS_MIN	9		/* what the file shipped with */
#define VECTORS_MAXSZ	(16u << 20)	/* refuse to slurp anything silly */
#define JSON_MAXDEPTH	16

#define XXPSK0	"Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"

/*
 * A JSON reader for this file's shape only: objects, arrays and strings
 * (no numbers, literals or \u escapes, which the vectors never use).
 * Every node is malloc'd; json_free() releases a tree.
 */

enum { J_STR, J_ARR, J_OBJ };

struct json {
	int		 type;
	char		*str;		/* J_STR, NUL-terminated */
	size_t		 len;
	struct json	*kids;		/* J_ARR, J_OBJ */
	char		**keys;		/* J_OBJ */
	size_t		 n;
};

struct jparser {
	const char	*p;
	const char	*end;
	int		 depth;
};

static int json_value(struct jparser *, struct json *);

static void
json_free(struct json *j)
{
	size_t	i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		json_free(&j->kids[i]);
		if (j->keys != NULL)
			free(j->keys[i]);
	}
	free(j->kids);
	free(j->keys);
	free(j->str);
	memset(j, 0, sizeof(*j));
}

static void
json_ws(struct jparser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
	    *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static int
json_expect(struct jparser *jp, char c)
{
	json_ws(jp);
	if (jp->p >= jp->end || *jp->p != c)
		return -1;
	jp->p++;
	return 0;
}

/* A string's bytes are never more than its source, so one malloc fits. */
static int
json_string(struct jparser *jp, char **out, size_t *outlen)
{
	const char *start;
	char	*s;
	size_t	n = 0;

	if (json_expect(jp, '"') == -1)
		return -1;
	start = jp->p;
	while (jp->p < jp->end && *jp->p != '"') {
		if (*jp->p == '\\' && ++jp->p == jp->end)
			return -1;
		jp->p++;
	}
	if (jp->p >= jp->end || (s = malloc((size_t)(jp->p - start) + 1)) ==
	    NULL)
		return -1;
	for (; start < jp->p; start++) {
		char c = *start;

		if ((unsigned char)c < 0x20)
			goto bad;
		if (c == '\\') {
			switch (*++start) {
			case '"': case '\\': case '/': c = *start; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			default: goto bad;
			}
		}
		s[n++] = c;
	}
	s[n] = '\0';
	jp->p++;			/* the closing quote */
	*out = s;
	*outlen = n;
	return 0;
bad:
	free(s);
	return -1;
}

/* Appends one zeroed child, growing the arrays as needed. */
static struct json *
json_push(struct json *j, char *key)
{
	struct json *kids;
	char	**keys;

	if ((kids = realloc(j->kids, (j->n + 1) * sizeof(*kids))) == NULL)
		return NULL;
	j->kids = kids;
	if (j->type == J_OBJ) {
		if ((keys = realloc(j->keys, (j->n + 1) * sizeof(*keys))) ==
		    NULL)
			return NULL;
		j->keys = keys;
		keys[j->n] = key;
	}
	memset(&kids[j->n], 0, sizeof(kids[j->n]));
	return &kids[j->n++];
}

static int
json_container(struct jparser *jp, struct json *j, char open, char close)
{
	struct json *kid;
	char	*key = NULL;
	size_t	klen;

	j->type = open == '{' ? J_OBJ : J_ARR;
	if (json_expect(jp, open) == -1)
		return -1;
	json_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		return 0;
	}
	for (;;) {
		if (j->type == J_OBJ && (json_string(jp, &key, &klen) == -1 ||
		    json_expect(jp, ':') == -1)) {
			free(key);
			return -1;
		}
		if ((kid = json_push(j, key)) == NULL) {
			free(key);
			return -1;
		}
		key = NULL;
		if (json_value(jp, kid) == -1)
			return -1;
		json_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		return json_expect(jp, close);
	}
}

static int
json_value(struct jparser *jp, struct json *j)
{
	int	rc;

	if (++jp->depth > JSON_MAXDEPTH)
		return -1;
	json_ws(jp);
	if (jp->p >= jp->end)
		rc = -1;
	else if (*jp->p == '{')
		rc = json_container(jp, j, '{', '}');
	else if (*jp->p == '[')
		rc = json_container(jp, j, '[', ']');
	else {
		j->type = J_STR;
		rc = json_string(jp, &j->str, &j->len);
	}
	jp->depth--;
	return rc;
}

static int
json_parse(const char *buf, size_t len, struct json *out)
{
	struct jparser jp = { buf, buf + len, 0 };

	memset(out, 0, sizeof(*out));
	if (json_value(&jp, out) == -1) {
		json_free(out);
		return -1;
	}
	json_ws(&jp);
	if (jp.p != jp.end) {
		json_free(out);
		return -1;
	}
	return 0;
}

static const struct json *
json_get(const struct json *obj, const char *key)
{
	size_t	i;

	if (obj == NULL || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->kids[i];
	return NULL;
}

static const char *
json_str(const struct json *obj, const char *key)
{
	const struct json *j = json_get(obj, key);

	return j != NULL && j->type == J_STR ? j->str : NULL;
}

/*
 * Hex and files.
 */

struct buf {
	uint8_t	*p;
	size_t	 len;
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* malloc's at least one byte so that an empty string is not NULL. */
static int
unhex(const char *s, size_t slen, struct buf *out)
{
	size_t	i;
	int	hi, lo;

	out->p = NULL;
	out->len = 0;
	if (s == NULL || slen % 2 != 0 || (out->p = malloc(slen / 2 + 1)) ==
	    NULL)
		return -1;
	for (i = 0; i < slen / 2; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0) {
			free(out->p);
			out->p = NULL;
			return -1;
		}
		out->p[i] = (uint8_t)(hi << 4 | lo);
	}
	out->len = slen / 2;
	return 0;
}

/* Absent is fine (rc 0, p NULL); present must be valid hex. */
static int
get_hex(const struct json *obj, const char *key, struct buf *out)
{
	const struct json *j = json_get(obj, key);

	out->p = NULL;
	out->len = 0;
	if (j == NULL)
		return 0;
	if (j->type != J_STR)
		return -1;
	return unhex(j->str, j->len, out);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 sz;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
	    (unsigned long)sz > VECTORS_MAXSZ || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)sz + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[sz] = '\0';
	*len = (size_t)sz;
	return buf;
}

static int
load_vectors(struct json *root)
{
	const char *path = getenv("NOISE_VECTORS");
	char	*text;
	size_t	 len;
	int	 rc;

	if (path == NULL || *path == '\0')
		path = VECTORS_PATH;
	if ((text = slurp(path, &len)) == NULL) {
		printf("# cannot read %s (run from the repository root or "
		    "set NOISE_VECTORS)\n", path);
		return -1;
	}
	rc = json_parse(text, len, root);
	free(text);
	if (rc == -1)
		printf("# %s: not the JSON shape expected\n", path);
	return rc;
}

/*
 * Running one vector.
 */

struct vec {
	const char	*name;
	struct buf	 i_prologue, r_prologue;
	struct buf	 i_static, r_static;
	struct buf	 i_eph, r_eph;
	struct buf	 i_rs, r_rs;
	struct buf	 hash;
	const struct json *i_psks, *r_psks, *msgs;
};

static void
vec_free(struct vec *v)
{
	free(v->i_prologue.p);
	free(v->r_prologue.p);
	free(v->i_static.p);
	free(v->r_static.p);
	free(v->i_eph.p);
	free(v->r_eph.p);
	free(v->i_rs.p);
	free(v->r_rs.p);
	free(v->hash.p);
}

static int
key_ok(const struct buf *b)
{
	return b->p == NULL || b->len == NOISE_DHLEN;
}

static int
vec_load(const struct json *j, struct vec *v)
{
	memset(v, 0, sizeof(*v));
	if ((v->name = json_str(j, "protocol_name")) == NULL ||
	    get_hex(j, "init_prologue", &v->i_prologue) == -1 ||
	    get_hex(j, "resp_prologue", &v->r_prologue) == -1 ||
	    get_hex(j, "init_static", &v->i_static) == -1 ||
	    get_hex(j, "resp_static", &v->r_static) == -1 ||
	    get_hex(j, "init_ephemeral", &v->i_eph) == -1 ||
	    get_hex(j, "resp_ephemeral", &v->r_eph) == -1 ||
	    get_hex(j, "init_remote_static", &v->i_rs) == -1 ||
	    get_hex(j, "resp_remote_static", &v->r_rs) == -1 ||
	    get_hex(j, "handshake_hash", &v->hash) == -1)
		return -1;
	v->i_psks = json_get(j, "init_psks");
	v->r_psks = json_get(j, "resp_psks");
	v->msgs = json_get(j, "messages");
	if (v->msgs == NULL || v->msgs->type != J_ARR ||
	    (v->i_psks != NULL && v->i_psks->type != J_ARR) ||
	    (v->r_psks != NULL && v->r_psks->type != J_ARR) ||
	    !key_ok(&v->i_static) || !key_ok(&v->r_static) ||
	    !key_ok(&v->i_eph) || !key_ok(&v->r_eph) ||
	    !key_ok(&v->i_rs) || !key_ok(&v->r_rs) ||
	    (v->hash.p != NULL && v->hash.len != NOISE_HASHLEN))
		return -1;
	return 0;
}

static int
add_psks(struct noise_hs *hs, const struct json *arr)
{
	struct buf b;
	size_t	i;
	int	rc;

	for (i = 0; arr != NULL && i < arr->n; i++) {
		if (arr->kids[i].type != J_STR ||
		    unhex(arr->kids[i].str, arr->kids[i].len, &b) == -1)
			return -1;
		rc = b.len == NOISE_PSKLEN ? noise_hs_add_psk(hs, b.p) : -1;
		free(b.p);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
vec_setup(const struct vec *v, struct noise_hs *ini, struct noise_hs *res)
{
	if (noise_hs_init(ini, v->name, 1, v->i_prologue.p, v->i_prologue.len,
	    v->i_static.p, v->i_rs.p) == -1 ||
	    noise_hs_init(res, v->name, 0, v->r_prologue.p, v->r_prologue.len,
	    v->r_static.p, v->r_rs.p) == -1 ||
	    add_psks(ini, v->i_psks) == -1 || add_psks(res, v->r_psks) == -1)
		return -1;
	if (v->i_eph.p != NULL && noise_hs_set_ephemeral(ini, v->i_eph.p) == -1)
		return -1;
	if (v->r_eph.p != NULL && noise_hs_set_ephemeral(res, v->r_eph.p) == -1)
		return -1;
	return 0;
}

/* One-way patterns are the single-letter ones (N, K, X). */
static int
name_one_way(const char *name)
{
	return strncmp(name, "Noise_", 6) == 0 &&
	    name[6] >= 'A' && name[6] <= 'Z' &&
	    !(name[7] >= 'A' && name[7] <= 'Z');
}

static int
buf_eq(const uint8_t *a, size_t alen, const struct buf *b)
{
	return alen == b->len && (alen == 0 || memcmp(a, b->p, alen) == 0);
}

/*
 * Message i of the vector: a handshake message while the handshake runs,
 * a transport message under the split ciphers after.
 */
struct side {
	struct noise_hs		hs;
	struct noise_cipher	tx, rx;
};

static int
vec_message(const struct vec *v, size_t i, struct side *s_ini,
    struct side *s_res, int one_way)
{
	static uint8_t out[NOISE_MAX_MSG], pt[NOISE_MAX_MSG];
	const struct json *m = &v->msgs->kids[i];
	struct buf payload, ct;
	struct side *from, *to;
	size_t	outlen = 0, ptlen = 0;
	int	ok = 0, hs_phase = !noise_hs_done(&s_ini->hs);

	if (get_hex(m, "payload", &payload) == -1 || payload.p == NULL ||
	    get_hex(m, "ciphertext", &ct) == -1 || ct.p == NULL)
		goto out;
	from = (one_way && !hs_phase) || i % 2 == 0 ? s_ini : s_res;
	to = from == s_ini ? s_res : s_ini;
	if (hs_phase) {
		CHECK(noise_hs_write(&from->hs, payload.p, payload.len, out,
		    sizeof(out), &outlen) == 0);
		CHECK(buf_eq(out, outlen, &ct));
		CHECK(noise_hs_read(&to->hs, ct.p, ct.len, pt, sizeof(pt),
		    &ptlen) == 0);
	} else {
		CHECK(payload.len + NOISE_TAGLEN <= sizeof(out));
		CHECK(noise_cipher_encrypt(&from->tx, NULL, 0, payload.p,
		    payload.len, out) == 0);
		outlen = payload.len + NOISE_TAGLEN;
		CHECK(buf_eq(out, outlen, &ct));
		CHECK(noise_cipher_decrypt(&to->rx, NULL, 0, ct.p, ct.len,
		    pt) == 0);
		ptlen = ct.len >= NOISE_TAGLEN ? ct.len - NOISE_TAGLEN : 0;
	}
	CHECK(buf_eq(pt, ptlen, &payload));
	ok = buf_eq(out, outlen, &ct) && buf_eq(pt, ptlen, &payload);
out:
	free(payload.p);
	free(ct.p);
	return ok ? 0 : -1;
}

static int
vec_finish_handshake(const struct vec *v, struct side *s_ini,
    struct side *s_res, int one_way)
{
	uint8_t	hi[NOISE_HASHLEN], hr[NOISE_HASHLEN];
	uint8_t	pub[NOISE_DHLEN], rs[NOISE_DHLEN];
	int	ok = 1;

	ok &= noise_hs_done(&s_res->hs);
	noise_hs_hash(&s_ini->hs, hi);
	noise_hs_hash(&s_res->hs, hr);
	ok &= memcmp(hi, hr, sizeof(hi)) == 0;
	if (v->hash.p != NULL)
		ok &= buf_eq(hi, sizeof(hi), &v->hash);
	/* Whoever has a static key, the other side now knows it. */
	if (v->i_static.p != NULL) {
		crypto_scalarmult_curve25519_base(pub, v->i_static.p);
		ok &= noise_hs_remote_static(&s_res->hs, rs) == 0 &&
		    memcmp(rs, pub, sizeof(rs)) == 0;
	} else
		ok &= noise_hs_remote_static(&s_res->hs, rs) == -1;
	if (v->r_static.p != NULL) {
		crypto_scalarmult_curve25519_base(pub, v->r_static.p);
		ok &= noise_hs_remote_static(&s_ini->hs, rs) == 0 &&
		    memcmp(rs, pub, sizeof(rs)) == 0;
	} else
		ok &= noise_hs_remote_static(&s_ini->hs, rs) == -1;
	ok &= noise_hs_split(&s_ini->hs, &s_ini->tx, &s_ini->rx) == 0;
	ok &= noise_hs_split(&s_res->hs, &s_res->tx, &s_res->rx) == 0;
	/* A one-way pattern leaves the reverse direction keyless. */
	ok &= s_ini->tx.has_key && s_res->rx.has_key;
	ok &= s_ini->rx.has_key == !one_way && s_res->tx.has_key == !one_way;
	CHECK(ok);
	return ok ? 0 : -1;
}

static int
run_vector(const struct json *j, size_t idx)
{
	struct side ini, res;
	struct vec v;
	size_t	i, hs_msgs = 0;
	int	one_way, rc = -1;

	memset(&ini, 0, sizeof(ini));
	memset(&res, 0, sizeof(res));
	if (vec_load(j, &v) == -1) {
		printf("# vector %zu: malformed\n", idx);
		goto out;
	}
	one_way = name_one_way(v.name);
	if (vec_setup(&v, &ini.hs, &res.hs) == -1) {
		printf("# vector %zu (%s): setup refused\n", idx, v.name);
		goto out;
	}
	for (i = 0; i < v.msgs->n; i++) {
		int was_hs = !noise_hs_done(&ini.hs);

		if (vec_message(&v, i, &ini, &res, one_way) == -1) {
			printf("# vector %zu (%s): message %zu differs\n",
			    idx, v.name, i);
			goto out;
		}
		hs_msgs += was_hs;
		if (was_hs && noise_hs_done(&ini.hs) &&
		    vec_finish_handshake(&v, &ini, &res, one_way) == -1) {
			printf("# vector %zu (%s): handshake end differs\n",
			    idx, v.name);
			goto out;
		}
	}
	/* Every vector has transport messages, so the split must have run. */
	if (!noise_hs_done(&ini.hs) || hs_msgs == v.msgs->n) {
		printf("# vector %zu (%s): handshake never finished\n",
		    idx, v.name);
		goto out;
	}
	printf("# vector %zu ok: %s (%zu handshake + %zu transport%s)\n",
	    idx, v.name, hs_msgs, v.msgs->n - hs_msgs,
	    v.hash.p != NULL ? ", hash checked" : "");
	rc = 0;
out:
	noise_wipe_hs(&ini.hs);
	noise_wipe_hs(&res.hs);
	noise_wipe_cipher(&ini.tx);
	noise_wipe_cipher(&ini.rx);
	noise_wipe_cipher(&res.tx);
	noise_wipe_cipher(&res.rx);
	vec_free(&v);
	return rc;
}

static void
test_vectors(void)
{
	struct json root;
	const struct json *vs;
	size_t	i, passed = 0;

	if (load_vectors(&root) == -1) {
		CHECK(!"vectors file readable");
		return;
	}
	vs = json_get(&root, "vectors");
	CHECK(vs != NULL && vs->type == J_ARR);
	if (vs == NULL || vs->type != J_ARR) {
		json_free(&root);
		return;
	}
	CHECK(vs->n >= VECTORS_MIN);
	for (i = 0; i < vs->n; i++) {
		int rc = run_vector(&vs->kids[i], i);

		CHECK(rc == 0);
		passed += rc == 0;
	}
	printf("# %zu of %zu vectors passed\n", passed, vs->n);
	CHECK(passed == vs->n);
	json_free(&root);
}

/*
 * The handshake Satchel uses, with random keys.
 */

struct xx {
	uint8_t		i_s[NOISE_DHLEN], r_s[NOISE_DHLEN];
	uint8_t		psk[NOISE_PSKLEN];
	struct noise_hs	ini, res;
	uint8_t		m1[256], m2[256], m3[256];
	size_t		m1len, m2len, m3len;
};

static const uint8_t pay1[] = "hello from the initiator";
static const uint8_t pay2[] = "responder here";
static const uint8_t pay3[] = "ed25519 identity would travel here";

static int
xx_init(struct xx *x, struct noise_hs *hs, int initiator, const uint8_t *psk)
{
	return noise_hs_init(hs, XXPSK0, initiator, (const uint8_t *)"satchel",
	    7, initiator ? x->i_s : x->r_s, NULL) == -1 ||
	    noise_hs_add_psk(hs, psk) == -1 ? -1 : 0;
}

/* Fresh keys and both states; the messages are made by xx_run(). */
static int
xx_setup(struct xx *x)
{
	memset(x, 0, sizeof(*x));
	randombytes_buf(x->i_s, sizeof(x->i_s));
	randombytes_buf(x->r_s, sizeof(x->r_s));
	randombytes_buf(x->psk, sizeof(x->psk));
	return xx_init(x, &x->ini, 1, x->psk) == -1 ||
	    xx_init(x, &x->res, 0, x->psk) == -1 ? -1 : 0;
}

/* Runs the three messages, keeping a copy of each. */
static int
xx_run(struct xx *x)
{
	uint8_t	pt[256];
	size_t	ptlen;

	return noise_hs_write(&x->ini, pay1, sizeof(pay1), x->m1,
	    sizeof(x->m1), &x->m1len) == -1 ||
	    noise_hs_read(&x->res, x->m1, x->m1len, pt, sizeof(pt),
	    &ptlen) == -1 ||
	    noise_hs_write(&x->res, pay2, sizeof(pay2), x->m2, sizeof(x->m2),
	    &x->m2len) == -1 ||
	    noise_hs_read(&x->ini, x->m2, x->m2len, pt, sizeof(pt),
	    &ptlen) == -1 ||
	    noise_hs_write(&x->ini, pay3, sizeof(pay3), x->m3, sizeof(x->m3),
	    &x->m3len) == -1 ||
	    noise_hs_read(&x->res, x->m3, x->m3len, pt, sizeof(pt),
	    &ptlen) == -1 ? -1 : 0;
}

static void
xx_wipe(struct xx *x)
{
	sodium_memzero(x, sizeof(*x));
}

/* A refused state stays refused, whatever comes next. */
static int
is_dead(struct noise_hs *hs, const uint8_t *good, size_t goodlen)
{
	uint8_t	buf[256];
	size_t	n;

	return noise_hs_read(hs, good, goodlen, buf, sizeof(buf), &n) == -1 &&
	    noise_hs_write(hs, NULL, 0, buf, sizeof(buf), &n) == -1 &&
	    !noise_hs_done(hs);
}

static void
test_xxpsk0_random_handshake(void)
{
	struct noise_cipher itx, irx, rtx, rrx;
	struct xx x;
	uint8_t	hi[NOISE_HASHLEN], hr[NOISE_HASHLEN], k[NOISE_DHLEN];
	uint8_t	pub[NOISE_DHLEN], ct[64], pt[64];
	static const uint8_t msg[] = "transport";

	CHECK(xx_setup(&x) == 0);
	CHECK(xx_run(&x) == 0);
	CHECK(noise_hs_done(&x.ini) && noise_hs_done(&x.res));
	/* psk, e and a 16-byte tag; then e, ee, s+tag, es, payload+tag. */
	CHECK(x.m1len == 32 + sizeof(pay1) + 16);
	CHECK(x.m2len == 32 + 48 + sizeof(pay2) + 16);
	CHECK(x.m3len == 48 + sizeof(pay3) + 16);

	noise_hs_hash(&x.ini, hi);
	noise_hs_hash(&x.res, hr);
	CHECK(memcmp(hi, hr, sizeof(hi)) == 0);
	crypto_scalarmult_curve25519_base(pub, x.r_s);
	CHECK(noise_hs_remote_static(&x.ini, k) == 0 &&
	    memcmp(k, pub, sizeof(k)) == 0);
	crypto_scalarmult_curve25519_base(pub, x.i_s);
	CHECK(noise_hs_remote_static(&x.res, k) == 0 &&
	    memcmp(k, pub, sizeof(k)) == 0);

	CHECK(noise_hs_split(&x.ini, &itx, &irx) == 0);
	CHECK(noise_hs_split(&x.res, &rtx, &rrx) == 0);
	CHECK(noise_hs_split(&x.res, &rtx, &rrx) == -1);
	/* After split the hash and the peer's key are still there. */
	noise_hs_hash(&x.res, hr);
	CHECK(memcmp(hi, hr, sizeof(hi)) == 0);
	CHECK(noise_hs_remote_static(&x.res, k) == 0 &&
	    memcmp(k, pub, sizeof(k)) == 0);

	CHECK(noise_cipher_encrypt(&itx, NULL, 0, msg, sizeof(msg), ct) == 0);
	CHECK(noise_cipher_decrypt(&rrx, NULL, 0, ct, sizeof(msg) + 16,
	    pt) == 0 && memcmp(pt, msg, sizeof(msg)) == 0);
	/* Replayed: the receiver's nonce has moved on. */
	CHECK(noise_cipher_decrypt(&rrx, NULL, 0, ct, sizeof(msg) + 16,
	    pt) == -1);
	CHECK(noise_cipher_encrypt(&rtx, hi, sizeof(hi), msg, sizeof(msg),
	    ct) == 0);
	CHECK(noise_cipher_decrypt(&irx, NULL, 0, ct, sizeof(msg) + 16,
	    pt) == -1);		/* wrong ad: refused, nonce kept */
	CHECK(noise_cipher_decrypt(&irx, hi, sizeof(hi), ct, sizeof(msg) + 16,
	    pt) == 0 && memcmp(pt, msg, sizeof(msg)) == 0);
	/* Empty messages are legal. */
	CHECK(noise_cipher_encrypt(&itx, NULL, 0, NULL, 0, ct) == 0);
	CHECK(noise_cipher_decrypt(&rrx, NULL, 0, ct, 16, NULL) == 0);

	noise_wipe_cipher(&itx);
	noise_wipe_cipher(&irx);
	noise_wipe_cipher(&rtx);
	noise_wipe_cipher(&rrx);
	xx_wipe(&x);
}

/* Every byte of each message, flipped in turn, is refused by the reader. */
static void
test_xxpsk0_flipped_byte(void)
{
	struct noise_hs pristine, hs;
	struct xx x;
	uint8_t	bad[256], pt[256];
	size_t	i, n, refused = 0;

	CHECK(xx_setup(&x) == 0);
	pristine = x.res;		/* before message 1 */
	CHECK(xx_run(&x) == 0);
	for (i = 0; i < x.m1len; i++) {
		memcpy(bad, x.m1, x.m1len);
		bad[i] ^= 0x01;
		hs = pristine;
		if (noise_hs_read(&hs, bad, x.m1len, pt, sizeof(pt), &n) == -1 &&
		    is_dead(&hs, x.m1, x.m1len))
			refused++;
	}
	CHECK(refused == x.m1len);
	/* The untouched message still goes through a fresh copy. */
	hs = pristine;
	CHECK(noise_hs_read(&hs, x.m1, x.m1len, pt, sizeof(pt), &n) == 0 &&
	    n == sizeof(pay1) && memcmp(pt, pay1, n) == 0);
	noise_wipe_hs(&hs);
	noise_wipe_hs(&pristine);
	xx_wipe(&x);
}

/* Messages 2 and 3 are refused when tampered with, too. */
static void
test_xxpsk0_flipped_later(void)
{
	struct xx x;
	struct noise_hs ini, res;
	uint8_t	pt[256], m2[256], m3[256];
	size_t	n, m2len, m3len;

	CHECK(xx_setup(&x) == 0);
	CHECK(noise_hs_write(&x.ini, pay1, sizeof(pay1), x.m1, sizeof(x.m1),
	    &x.m1len) == 0);
	CHECK(noise_hs_read(&x.res, x.m1, x.m1len, pt, sizeof(pt), &n) == 0);
	CHECK(noise_hs_write(&x.res, pay2, sizeof(pay2), m2, sizeof(m2),
	    &m2len) == 0);
	ini = x.ini;
	m2[40] ^= 0x80;			/* inside the encrypted static key */
	CHECK(noise_hs_read(&ini, m2, m2len, pt, sizeof(pt), &n) == -1);
	CHECK(is_dead(&ini, m2, m2len));
	m2[40] ^= 0x80;
	CHECK(noise_hs_read(&x.ini, m2, m2len, pt, sizeof(pt), &n) == 0);
	CHECK(noise_hs_write(&x.ini, pay3, sizeof(pay3), m3, sizeof(m3),
	    &m3len) == 0);
	res = x.res;
	m3[m3len - 1] ^= 0x01;		/* the payload's tag */
	CHECK(noise_hs_read(&res, m3, m3len, pt, sizeof(pt), &n) == -1);
	CHECK(is_dead(&res, m3, m3len));
	m3[m3len - 1] ^= 0x01;
	CHECK(noise_hs_read(&x.res, m3, m3len, pt, sizeof(pt), &n) == 0);
	CHECK(noise_hs_done(&x.res));
	noise_wipe_hs(&ini);
	noise_wipe_hs(&res);
	xx_wipe(&x);
}

static void
test_xxpsk0_wrong_psk(void)
{
	struct noise_hs other;
	struct xx x;
	uint8_t	psk[NOISE_PSKLEN], pt[256];
	size_t	n;

	CHECK(xx_setup(&x) == 0);
	memcpy(psk, x.psk, sizeof(psk));
	psk[31] ^= 0x01;
	CHECK(xx_init(&x, &other, 0, psk) == 0);
	CHECK(noise_hs_write(&x.ini, pay1, sizeof(pay1), x.m1, sizeof(x.m1),
	    &x.m1len) == 0);
	CHECK(noise_hs_read(&other, x.m1, x.m1len, pt, sizeof(pt), &n) == -1);
	CHECK(is_dead(&other, x.m1, x.m1len));
	CHECK(noise_hs_read(&x.res, x.m1, x.m1len, pt, sizeof(pt), &n) == 0);
	noise_wipe_hs(&other);
	xx_wipe(&x);
}

/*
 * How a responder accepts the current or the previous network key: a
 * struct copy taken before the psk is added, one try per key.
 */
static void
test_xxpsk0_second_psk(void)
{
	struct noise_hs base, cur, prev;
	struct xx x;
	uint8_t	newpsk[NOISE_PSKLEN], pt[256];
	size_t	n;

	CHECK(xx_setup(&x) == 0);
	randombytes_buf(newpsk, sizeof(newpsk));
	CHECK(noise_hs_init(&base, XXPSK0, 0, (const uint8_t *)"satchel", 7,
	    x.r_s, NULL) == 0);
	cur = base;
	prev = base;
	CHECK(noise_hs_add_psk(&cur, newpsk) == 0);
	CHECK(noise_hs_add_psk(&prev, x.psk) == 0);
	CHECK(noise_hs_write(&x.ini, pay1, sizeof(pay1), x.m1, sizeof(x.m1),
	    &x.m1len) == 0);
	CHECK(noise_hs_read(&cur, x.m1, x.m1len, pt, sizeof(pt), &n) == -1);
	CHECK(noise_hs_read(&prev, x.m1, x.m1len, pt, sizeof(pt), &n) == 0);
	noise_wipe_hs(&base);
	noise_wipe_hs(&cur);
	noise_wipe_hs(&prev);
	xx_wipe(&x);
}

/* Every strict prefix, and one byte more, of each message is refused. */
static void
test_truncated(void)
{
	struct noise_hs pristine[3], hs;
	const uint8_t *m[3];
	struct xx x;
	uint8_t	pt[256], longer[257];
	size_t	len[3], i, k, n, refused = 0, tried = 0;

	CHECK(xx_setup(&x) == 0);
	pristine[0] = x.res;
	CHECK(noise_hs_write(&x.ini, pay1, sizeof(pay1), x.m1, sizeof(x.m1),
	    &x.m1len) == 0);
	CHECK(noise_hs_read(&x.res, x.m1, x.m1len, pt, sizeof(pt), &n) == 0);
	pristine[1] = x.ini;
	CHECK(noise_hs_write(&x.res, pay2, sizeof(pay2), x.m2, sizeof(x.m2),
	    &x.m2len) == 0);
	CHECK(noise_hs_read(&x.ini, x.m2, x.m2len, pt, sizeof(pt), &n) == 0);
	pristine[2] = x.res;
	CHECK(noise_hs_write(&x.ini, pay3, sizeof(pay3), x.m3, sizeof(x.m3),
	    &x.m3len) == 0);
	m[0] = x.m1, m[1] = x.m2, m[2] = x.m3;
	len[0] = x.m1len, len[1] = x.m2len, len[2] = x.m3len;

	for (k = 0; k < 3; k++) {
		for (i = 0; i <= len[k]; i++, tried++) {
			hs = pristine[k];
			memcpy(longer, m[k], len[k]);
			longer[len[k]] = 0;
			/* i == len[k] tries the message with a byte added. */
			if (noise_hs_read(&hs, longer,
			    i == len[k] ? len[k] + 1 : i, pt, sizeof(pt),
			    &n) == -1 && is_dead(&hs, m[k], len[k]))
				refused++;
		}
		hs = pristine[k];
		CHECK(noise_hs_read(&hs, m[k], len[k], pt, sizeof(pt), &n) == 0);
	}
	CHECK(refused == tried);
	for (k = 0; k < 3; k++)
		noise_wipe_hs(&pristine[k]);
	noise_wipe_hs(&hs);
	xx_wipe(&x);
}

static void
test_protocol_names(void)
{
	static const struct {
		const char	*name;
		int		 s, rs;	/* what the initiator must bring */
	} good[] = {
		{ "Noise_NN_25519_ChaChaPoly_BLAKE2b", 0, 0 },
		{ "Noise_NNpsk2_25519_ChaChaPoly_BLAKE2b", 0, 0 },
		{ "Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b", 1, 0 },
		{ "Noise_XXpsk3+psk0_25519_ChaChaPoly_BLAKE2b", 1, 0 },
		{ "Noise_KKpsk1+psk2_25519_ChaChaPoly_BLAKE2b", 1, 1 },
		{ "Noise_Npsk1_25519_ChaChaPoly_BLAKE2b", 0, 1 },
	};
	static const char *const bad[] = {
		"", "Noise_", "Noise_XX", "Noise_XX_25519_ChaChaPoly",
		"Noise_XX_25519_ChaChaPoly_BLAKE2s",
		"Noise_XX_448_ChaChaPoly_BLAKE2b",
		"Noise_XX_25519_AESGCM_BLAKE2b",
		"Noise_XX_25519_ChaChaPoly_BLAKE2bx",
		"Noise_IK_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXX_25519_ChaChaPoly_BLAKE2b",
		"Noise_xx_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b",
		"Noise_Npsk2_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk0+psk0_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk0+_25519_ChaChaPoly_BLAKE2b",
		"Noise_XX+psk0_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk01_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
		"noise_XX_25519_ChaChaPoly_BLAKE2b",
	};
	const uint8_t k[NOISE_DHLEN] = { 9 };
	struct noise_hs hs;
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int	rc = noise_hs_init(&hs, good[i].name, 1, NULL, 0,
		    good[i].s ? k : NULL, good[i].rs ? k : NULL);

		if (rc != 0)
			printf("# refused: %s\n", good[i].name);
		CHECK(rc == 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int	rc = noise_hs_init(&hs, bad[i], 1, NULL, 0, NULL, NULL);

		if (rc != -1)
			printf("# accepted: %s\n", bad[i]);
		CHECK(rc == -1);
		/* A refused init leaves nothing usable. */
		CHECK(noise_hs_add_psk(&hs, (const uint8_t *)
		    "0123456789abcdef0123456789abcdef") == -1);
	}
	noise_wipe_hs(&hs);
}

/* Keys must match what the pattern uses, no more, no less. */
static void
test_init_keys(void)
{
	struct noise_hs hs;
	uint8_t	k[NOISE_DHLEN];

	randombytes_buf(k, sizeof(k));
	CHECK(noise_hs_init(&hs, XXPSK0, 1, NULL, 0, NULL, NULL) == -1);
	CHECK(noise_hs_init(&hs, XXPSK0, 1, NULL, 0, k, k) == -1);
	CHECK(noise_hs_init(&hs, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL,
	    0, k, NULL) == -1);
	CHECK(noise_hs_init(&hs, "Noise_KK_25519_ChaChaPoly_BLAKE2b", 0, NULL,
	    0, k, NULL) == -1);
	CHECK(noise_hs_init(&hs, "Noise_KK_25519_ChaChaPoly_BLAKE2b", 0, NULL,
	    0, k, k) == 0);
	CHECK(noise_hs_init(&hs, "Noise_N_25519_ChaChaPoly_BLAKE2b", 1, NULL,
	    0, NULL, k) == 0);
	CHECK(noise_hs_init(&hs, "Noise_N_25519_ChaChaPoly_BLAKE2b", 0, NULL,
	    0, k, NULL) == 0);
	CHECK(noise_hs_init(&hs, "Noise_N_25519_ChaChaPoly_BLAKE2b", 0, NULL,
	    0, k, k) == -1);
	CHECK(noise_hs_init(&hs, XXPSK0, 1, NULL, 5, k, NULL) == -1);
	noise_wipe_hs(&hs);
}

static void
test_misuse(void)
{
	static uint8_t big[NOISE_MAX_MSG + 64], big2[NOISE_MAX_MSG + 64];
	struct noise_cipher tx, rx;
	struct noise_hs fresh;
	struct xx x;
	uint8_t	out[256], pt[256];
	size_t	n, need;

	CHECK(xx_setup(&x) == 0);
	/* Too many psks for one psk token. */
	CHECK(noise_hs_add_psk(&x.ini, x.psk) == -1);
	/* Out of turn: the responder speaks second, the initiator first. */
	CHECK(noise_hs_write(&x.res, NULL, 0, out, sizeof(out), &n) == -1);
	CHECK(noise_hs_read(&x.ini, out, 64, pt, sizeof(pt), &n) == -1);
	CHECK(noise_hs_split(&x.ini, &tx, &rx) == -1);
	/* A short out buffer fails without harm... */
	need = 32 + sizeof(pay1) + 16;
	CHECK(noise_hs_write(&x.ini, pay1, sizeof(pay1), out, need - 1,
	    &n) == -1);
	CHECK(noise_hs_write(&x.ini, pay1, sizeof(pay1), out, need, &n) == 0 &&
	    n == need);
	/* ...and so does a short payload buffer. */
	CHECK(noise_hs_read(&x.res, out, need, pt, sizeof(pay1) - 1, &n) == -1);
	CHECK(noise_hs_read(&x.res, out, need, pt, sizeof(pay1), &n) == 0 &&
	    n == sizeof(pay1));
	/* The ephemeral is fixed only before it is used. */
	CHECK(noise_hs_set_ephemeral(&x.ini, x.psk) == -1);
	CHECK(noise_hs_write(&x.ini, NULL, 0, out, sizeof(out), &n) == -1);
	/* A missing psk is caught before anything is consumed. */
	CHECK(noise_hs_init(&fresh, XXPSK0, 1, NULL, 0, x.i_s, NULL) == 0);
	CHECK(noise_hs_write(&fresh, NULL, 0, out, sizeof(out), &n) == -1);
	CHECK(noise_hs_add_psk(&fresh, x.psk) == 0);
	CHECK(noise_hs_write(&fresh, NULL, 0, out, sizeof(out), &n) == 0);
	noise_wipe_hs(&fresh);
	/* Message 2 carries 96 bytes besides its payload: e, s+tag, tag. */
	CHECK(noise_hs_write(&x.res, big, NOISE_MAX_MSG - 95, big2,
	    sizeof(big2), &n) == -1);
	CHECK(noise_hs_write(&x.res, big, NOISE_MAX_MSG - 96, big2,
	    NOISE_MAX_MSG - 1, &n) == -1);
	CHECK(noise_hs_write(&x.res, big, NOISE_MAX_MSG - 96, big2,
	    sizeof(big2), &n) == 0 && n == NOISE_MAX_MSG);
	CHECK(noise_hs_read(&x.ini, big2, n, big, sizeof(big), &n) == 0 &&
	    n == NOISE_MAX_MSG - 96);
	xx_wipe(&x);
}

static void
test_cipher_limits(void)
{
	struct noise_cipher c, d;
	uint8_t	ct[32] = { 0 }, pt[16] = { 0 };

	memset(&c, 0, sizeof(c));
	CHECK(noise_cipher_encrypt(&c, NULL, 0, pt, 1, ct) == -1);
	CHECK(noise_cipher_decrypt(&c, NULL, 0, ct, 17, pt) == -1);
	randombytes_buf(c.k, sizeof(c.k));
	c.has_key = 1;
	d = c;
	/* 2^64-1 is reserved: the last usable nonce is 2^64-2. */
	c.n = d.n = UINT64_MAX - 1;
	memset(pt, 'x', sizeof(pt));
	CHECK(noise_cipher_encrypt(&c, NULL, 0, pt, 1, ct) == 0);
	CHECK(noise_cipher_encrypt(&c, NULL, 0, pt, 1, ct) == -1);
	CHECK(noise_cipher_decrypt(&d, NULL, 0, ct, 15, pt) == -1);
	CHECK(noise_cipher_decrypt(&d, NULL, 0, ct, 17, pt) == 0);
	CHECK(noise_cipher_decrypt(&d, NULL, 0, ct, 17, pt) == -1);
	c.n = 0;
	CHECK(noise_cipher_encrypt(&c, NULL, 0, pt, NOISE_MAX_MSG, ct) == -1);
	noise_wipe_cipher(&c);
	noise_wipe_cipher(&d);
	CHECK(c.has_key == 0 && d.has_key == 0);
}

TAP_MAIN(
	TAP_TEST(test_vectors),
	TAP_TEST(test_xxpsk0_random_handshake),
	TAP_TEST(test_xxpsk0_flipped_byte),
	TAP_TEST(test_xxpsk0_flipped_later),
	TAP_TEST(test_xxpsk0_wrong_psk),
	TAP_TEST(test_xxpsk0_second_psk),
	TAP_TEST(test_truncated),
	TAP_TEST(test_protocol_names),
	TAP_TEST(test_init_keys),
	TAP_TEST(test_misuse),
	TAP_TEST(test_cipher_limits))
