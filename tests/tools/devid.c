/*
 * devid hex|checked ID: prints a device id, given in either form, in the
 * old 64-hex form or the checked form. The upgrade test uses it to hand a
 * device id from one release to the other, each of which reads its own.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

int
main(int argc, char **argv)
{
	uint8_t id[PROTO_IDLEN];
	char out[2 * PROTO_IDLEN + PROTO_DEVID_LEN + 2];
	size_t len;

	if (argc != 3 || (strcmp(argv[1], "hex") != 0 &&
	    strcmp(argv[1], "checked") != 0)) {
		fprintf(stderr, "usage: devid hex|checked ID\n");
		return 2;
	}
	if (proto_devid_decode(argv[2], strlen(argv[2]), id, NULL) != 0 &&
	    (strlen(argv[2]) != 2 * PROTO_IDLEN || sodium_hex2bin(id,
	    sizeof(id), argv[2], strlen(argv[2]), NULL, &len, NULL) != 0 ||
	    len != PROTO_IDLEN)) {
		fprintf(stderr, "devid: '%s' is not a device id\n", argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "hex") == 0)
		sodium_bin2hex(out, sizeof(out), id, sizeof(id));
	else
		proto_devid_encode(id, out);
	printf("%s\n", out);
	return 0;
}
