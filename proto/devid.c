/*
 * Device ids as people read them out and type them in: Syncthing's device
 * ID format (see proto.h), so that a one-character typo in `member add`
 * is refused instead of adding a device that can never exist.
 */
#include "checked32.h"
#include "proto.h"

#define GROUPS	4	/* of 13 base32 characters and a check each */

_Static_assert(CHECKED32_LEN(PROTO_IDLEN, GROUPS) == PROTO_DEVID_LEN,
    "a device id is 8 groups of 7");
_Static_assert(PROTO_IDLEN <= CHECKED32_MAX_BYTES &&
    CHECKED32_DATA(PROTO_IDLEN) % GROUPS == 0, "see checked32_encode");
_Static_assert(CHECKED32_EFORM == PROTO_DEVID_EFORM &&
    CHECKED32_ECHECK == PROTO_DEVID_ECHECK, "errors pass through");

void
proto_devid_encode(const uint8_t id[PROTO_IDLEN], char out[PROTO_DEVID_LEN + 1])
{
	checked32_encode(id, PROTO_IDLEN, GROUPS, out);
}

int
proto_devid_decode(const char *s, size_t len, uint8_t id[PROTO_IDLEN],
    int *group)
{
	/* Spaces as Syncthing accepts them; a line break is the caller's to
	 * trim. */
	return checked32_decode(s, len, " ", id, PROTO_IDLEN, GROUPS, group);
}
