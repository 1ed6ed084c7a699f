/*
 * keyfile FILE: writes the key a key file holds (sealed under its data
 * directory's KEK, or in the clear) to stdout, as raw bytes. The KEK
 * comes as it does for satchel (daemon/keys/keys.c): the daemon, the keyring,
 * SATCHEL_PASSPHRASE_FILE. Exit 0, or 2 if it cannot be opened.
 *
 * Tests use it to get a key's bytes, to grep a folder for them or to
 * copy a team key into another folder as a stranger would.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "keys.h"

#define KEYFILE_MAX	(64 * 1024)

int
main(int argc, char **argv)
{
	static unsigned char buf[KEYFILE_MAX];
	size_t len;

	if (argc != 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: keyfile FILE\n");
		return 2;
	}
	if (keyfile_read_var(argv[1], buf, sizeof(buf), &len) != 0) {
		perror(argv[1]);
		return 2;
	}
	return fwrite(buf, 1, len, stdout) == len ? 0 : 2;
}
