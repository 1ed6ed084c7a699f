/*
 * LAN discovery (Syncthing's local discovery, keyed by the team): every
 * BEACON_EVERY_MS, and when serve starts, a beacon (proto/beacon.h) goes
 * to each IPv4 interface's broadcast address and to the IPv6 link-local
 * group DISCOVERY_GROUP6 on each interface, on UDP port SATCHEL_PORT. A
 * beacon this team's network key opens names a device and its TCP port:
 * serve dials it like an added peer (server_discovered). Anything else is
 * dropped without a word: another team's beacons, noise, a flood.
 */
#include <net/if.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "beacon.h"
#include "net.h"

#define BEACON_EVERY_MS		30000
#define DISCOVERY_GROUP6	"ff12::5a7c"	/* transient, link-local */
#define BEACON_KEYS_MAX		8		/* as many as a keyring holds */

struct discovery {
	struct server	*srv;
	uv_udp_t	 udp4, udp6;
	int		 have4, have6;	/* usable */
	int		 handles;	/* open: the last close frees all */
	uv_timer_t	 timer;
	uint16_t	 port;		/* ours, announced */
	size_t		 nkeys;		/* beacon keys of the network keys */
	uint8_t		*keys;		/* sodium_malloc'd, nkeys keys */
};

/* The beacon keys of every network key held: the current epoch's seals,
 * and any opens (a colleague who has not heard of a new epoch yet). */
static void
derive_keys(struct discovery *ds)
{
	const struct store_keyring *kr = ds->srv->d->keyring;

	ds->nkeys = 0;
	if (ds->srv->d->network != NULL)
		proto_beacon_key(ds->keys + ds->nkeys++ * PROTO_KEYLEN,
		    ds->srv->d->network->key);
	for (size_t i = 0; kr != NULL && i < kr->nkeys &&
	    ds->nkeys < BEACON_KEYS_MAX; i++) {
		if (kr->keys[i].use != KEY_NETWORK || (ds->srv->d->network !=
		    NULL && memcmp(kr->keys[i].id, ds->srv->d->network->id,
		    PROTO_KEYIDLEN) == 0))
			continue;
		proto_beacon_key(ds->keys + ds->nkeys++ * PROTO_KEYLEN,
		    kr->keys[i].key);
	}
}

static void
send_to(uv_udp_t *udp, const uint8_t *beacon, const struct sockaddr *sa)
{
	uv_buf_t b = uv_buf_init((char *)beacon, PROTO_BEACON_LEN);

	/* Best effort: a full send buffer or a link that is down loses one
	 * beacon, and the next comes in BEACON_EVERY_MS. */
	(void)uv_udp_try_send(udp, &b, 1, sa);
}

static void
announce_on(struct discovery *ds, const uv_interface_address_t *ifa,
    const uint8_t *beacon)
{
	if (ifa->address.address4.sin_family == AF_INET && ds->have4) {
		struct sockaddr_in to = ifa->address.address4;

		to.sin_addr.s_addr |= ~ifa->netmask.netmask4.sin_addr.s_addr;
		to.sin_port = htons(SATCHEL_PORT);
		send_to(&ds->udp4, beacon, (const struct sockaddr *)&to);
	} else if (ifa->address.address6.sin6_family == AF_INET6 &&
	    ds->have6 && IN6_IS_ADDR_LINKLOCAL(
	    &ifa->address.address6.sin6_addr)) {
		struct sockaddr_in6 to;

		if (uv_ip6_addr(DISCOVERY_GROUP6, SATCHEL_PORT, &to) != 0)
			return;
		to.sin6_scope_id = if_nametoindex(ifa->name);
		send_to(&ds->udp6, beacon, (const struct sockaddr *)&to);
	}
}

static void
announce(struct discovery *ds)
{
	uv_interface_address_t *ifs;
	uint8_t beacon[PROTO_BEACON_LEN];
	struct beacon b;
	int n;

	if (ds->srv->d->network == NULL || uv_interface_addresses(&ifs, &n) !=
	    0)
		return;
	memcpy(b.id, ds->srv->d->id, PROTO_IDLEN);
	b.port = ds->port;
	b.sent_ms = now_ms();
	proto_beacon_seal(beacon, ds->keys, &b);
	for (int i = 0; i < n; i++)
		if (!ifs[i].is_internal)
			announce_on(ds, &ifs[i], beacon);
	uv_free_interface_addresses(ifs, n);
}

static void
timer_cb(uv_timer_t *timer)
{
	struct discovery *ds = timer->data;

	derive_keys(ds);	/* a new epoch's key, learnt meanwhile */
	announce(ds);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char one[PROTO_BEACON_LEN + 1];	/* longer: not a beacon */

	(void)h;
	(void)suggested;
	*buf = uv_buf_init(one, sizeof(one));
}

/* "10.0.0.2:7420" or "[fe80::2%eth0]:7420": where the beacon came from,
 * with the port it announced. */
static int
beacon_addr(const struct sockaddr *from, uint16_t port,
    char out[PEER_ADDR_MAX])
{
	char host[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE] = "", buf[96];

	if (from->sa_family == AF_INET) {
		uv_ip4_name((const struct sockaddr_in *)from, host,
		    sizeof(host));
		snprintf(out, PEER_ADDR_MAX, "%s:%u", host, port);
		return 0;
	}
	if (from->sa_family != AF_INET6)
		return -1;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;

	uv_ip6_name(s6, host, sizeof(host));
	if (s6->sin6_scope_id != 0 && if_indextoname(s6->sin6_scope_id,
	    ifname) == NULL)
		return -1;
	if ((size_t)snprintf(buf, sizeof(buf), "[%s%s%s]:%u", host, *ifname ?
	    "%" : "", ifname, port) >= PEER_ADDR_MAX)
		return -1;
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

static void
recv_cb(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *from, unsigned flags)
{
	struct discovery *ds = udp->data;
	struct beacon b;
	char addr[PEER_ADDR_MAX];

	if (nread != PROTO_BEACON_LEN || from == NULL ||
	    (flags & UV_UDP_PARTIAL))
		return;
	for (size_t i = 0; i < ds->nkeys; i++) {
		if (proto_beacon_open((const uint8_t *)buf->base,
		    (size_t)nread, ds->keys + i * PROTO_KEYLEN, &b) != 0)
			continue;
		if (beacon_addr(from, b.port, addr) == 0)
			server_discovered(ds->srv, b.id, addr);
		return;
	}
}

static int
open4(struct discovery *ds)
{
	struct sockaddr_in any;

	uv_ip4_addr("0.0.0.0", SATCHEL_PORT, &any);
	uv_udp_init(ds->srv->loop, &ds->udp4);
	ds->udp4.data = ds;
	ds->handles++;
	/* REUSEADDR: two daemons on one machine (a test, a demo) both hear
	 * the segment's beacons. */
	if (uv_udp_bind(&ds->udp4, (const struct sockaddr *)&any,
	    UV_UDP_REUSEADDR) != 0 || uv_udp_set_broadcast(&ds->udp4, 1) != 0 ||
	    uv_udp_recv_start(&ds->udp4, alloc_cb, recv_cb) != 0)
		return -1;
	ds->have4 = 1;
	return 0;
}

static int
open6(struct discovery *ds)
{
	struct sockaddr_in6 any;

	uv_ip6_addr("::", SATCHEL_PORT, &any);
	uv_udp_init(ds->srv->loop, &ds->udp6);
	ds->udp6.data = ds;
	ds->handles++;
	if (uv_udp_bind(&ds->udp6, (const struct sockaddr *)&any,
	    UV_UDP_REUSEADDR | UV_UDP_IPV6ONLY) != 0 ||
	    uv_udp_recv_start(&ds->udp6, alloc_cb, recv_cb) != 0)
		return -1;
	ds->have6 = 1;
	return 0;
}

/* Joins the group on every interface with a link-local address. */
static void
join6(struct discovery *ds)
{
	uv_interface_address_t *ifs;
	char iface[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char host[INET6_ADDRSTRLEN];
	int n;

	if (uv_interface_addresses(&ifs, &n) != 0)
		return;
	for (int i = 0; i < n; i++) {
		const struct sockaddr_in6 *s6 = &ifs[i].address.address6;

		if (ifs[i].is_internal || s6->sin6_family != AF_INET6 ||
		    !IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			continue;
		uv_ip6_name(s6, host, sizeof(host));
		snprintf(iface, sizeof(iface), "%s%%%s", host, ifs[i].name);
		(void)uv_udp_set_membership(&ds->udp6, DISCOVERY_GROUP6, iface,
		    UV_JOIN_GROUP);
	}
	uv_free_interface_addresses(ifs, n);
}

static void
closed_cb(uv_handle_t *h)
{
	struct discovery *ds = h->data;

	if (--ds->handles == 0) {
		sodium_free(ds->keys);
		free(ds);
	}
}

int
discovery_start(struct server *srv, uint16_t port)
{
	struct discovery *ds;

	if ((ds = calloc(1, sizeof(*ds))) == NULL ||
	    (ds->keys = sodium_malloc(BEACON_KEYS_MAX * PROTO_KEYLEN)) ==
	    NULL) {
		free(ds);
		return -1;
	}
	ds->srv = srv;
	ds->port = port;
	srv->discovery = ds;
	derive_keys(ds);
	uv_timer_init(srv->loop, &ds->timer);
	ds->timer.data = ds;
	ds->handles++;
	if (open4(ds) != 0)
		net_log("LAN discovery: cannot use UDP port %d on IPv4",
		    SATCHEL_PORT);
	if (open6(ds) != 0)
		net_log("LAN discovery: no IPv6 on UDP port %d", SATCHEL_PORT);
	else
		join6(ds);
	uv_timer_start(&ds->timer, timer_cb, 0, BEACON_EVERY_MS);
	return 0;
}

void
discovery_stop(struct server *srv)
{
	struct discovery *ds = srv->discovery;

	if (ds == NULL)
		return;
	srv->discovery = NULL;
	uv_close((uv_handle_t *)&ds->timer, closed_cb);
	uv_close((uv_handle_t *)&ds->udp4, closed_cb);
	uv_close((uv_handle_t *)&ds->udp6, closed_cb);
}
