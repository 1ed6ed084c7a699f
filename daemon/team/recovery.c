/*
 * The teacher's recovery phrase (proto/phrase.h) and the personal key
 * derived from it, which seals private notes and entries. The secret
 * lives in DIR/personal.key (0600) beside the other keys; `init` shows
 * its phrase once, `init --recover` takes it on a new or second device,
 * `recovery` shows it again. A box has none: it reads nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "phrase.h"
#include "satchel.h"

#define PERSONAL_FILE	"personal.key"
#define PHRASE_INPUT_MAX 256	/* a pasted phrase with room for spaces */

static int
personal_path(const char *dir, char *out, size_t len)
{
	return snprintf(out, len, "%s/%s", dir, PERSONAL_FILE) < (int)len ?
	    0 : -1;
}

/* Writes secret to DIR/personal.key. */
int
recovery_save(const char *dir, const uint8_t *secret)
{
	char path[4200];

	if (personal_path(dir, path, sizeof(path)) != 0 ||
	    keyfile_write(path, secret, PROTO_PHRASE_SECRET) != 0)
		return fail("cannot write %s in %s: %s", PERSONAL_FILE, dir,
		    strerror(errno));
	return 0;
}

/* Tells the teacher, on stderr (stdout stays the device id alone), what
 * the phrase is for and what losing it costs. */
void
recovery_announce(const uint8_t *secret)
{
	char phrase[PROTO_PHRASE_LEN + 1];

	proto_phrase_encode(secret, phrase);
	fprintf(stderr,
	    "\nYour recovery phrase (write it down now; 'satchel recovery' "
	    "shows it again):\n\n    %s\n\n"
	    "It opens your private notes on a new or second computer "
	    "('satchel init --recover').\nIf you lose both this computer and "
	    "this phrase, your private notes are gone for good:\nno one, not "
	    "the school and not Satchel, can open them. For a sheet to print: "
	    "'satchel recovery --sheet'.\n\n", phrase);
	sodium_memzero(phrase, sizeof(phrase));
}

/* Reads one phrase from stdin (the terminal, or a pipe). A typo is told
 * by the half it is in; nothing is written either way. */
int
recovery_read(uint8_t *secret)
{
	char *line = secmem_alloc(PHRASE_INPUT_MAX);
	int half = 0, rc;
	size_t len;

	if (line == NULL)
		return fail("out of memory");
	if (isatty(STDIN_FILENO))
		fputs("Recovery phrase: ", stderr);
	if (fgets(line, PHRASE_INPUT_MAX, stdin) == NULL) {
		secmem_free(line);
		return fail_usage("init --recover: no recovery phrase given "
		    "(type it, or pipe it to stdin)");
	}
	len = strlen(line);
	rc = proto_phrase_decode(line, len, secret, &half);
	secmem_free(line);
	if (rc == PROTO_PHRASE_ECHECK)
		return fail_usage("init --recover: the recovery phrase has a "
		    "typo in its %s half (groups %d and %d); nothing was "
		    "written", half == 1 ? "first" : "second", 2 * half - 1,
		    2 * half);
	if (rc != 0)
		return fail_usage("init --recover: that is not a recovery "
		    "phrase (four groups of 7 letters and digits, as "
		    "'satchel recovery' shows); nothing was written");
	return 0;
}

void
recovery_keyring(struct device *d)
{
	struct store_keyring *kr = d->keyring;

	d->personal = NULL;
	if (d->personal_key == NULL || kr == NULL ||
	    kr->nkeys == sizeof(kr->keys) / sizeof(kr->keys[0]))
		return;
	d->personal = &kr->keys[kr->nkeys++];
	*d->personal = *d->personal_key;
}

/* Reads the personal key into d and its keyring, if d has one (a
 * teacher). */
int
recovery_load(struct device *d)
{
	uint8_t *secret = secmem_alloc(PROTO_PHRASE_SECRET);
	char path[4200];
	int rc = -1;

	if (secret == NULL || personal_path(d->dir, path, sizeof(path)) != 0)
		goto out;
	if (access(path, F_OK) != 0 || d->keyring == NULL) {
		rc = 0;		/* a box, or a device from before phrases */
		goto out;
	}
	if (keyfile_read(path, secret, PROTO_PHRASE_SECRET) != 0 ||
	    (d->personal_key = secmem_alloc(sizeof(*d->personal_key))) ==
	    NULL)
		goto out;
	proto_phrase_key(secret, d->personal_key->key);
	proto_key_id(d->personal_key->key, d->personal_key->id);
	d->personal_key->use = KEY_CONTENT;
	recovery_keyring(d);
	rc = d->personal != NULL ? 0 : -1;
out:
	secmem_free(secret);
	return rc;
}

static int
confirmed(struct args *a)
{
	char answer[16];

	if (args_has(a, "yes"))
		return 1;
	fputs("Show your recovery phrase on screen? Anyone who sees it can "
	    "read your private\nnotes. Type yes to show it: ", stderr);
	return fgets(answer, sizeof(answer), stdin) != NULL &&
	    strncmp(answer, "yes", 3) == 0;
}

static void
print_sheet(const struct device *d, const char *phrase)
{
	char id[PROTO_DEVID_LEN + 1];

	devid_format(d->id, id);
	printf("SATCHEL RECOVERY SHEET\n======================\n\n"
	    "Teacher:        %s\nDevice it came from: %s\n\n"
	    "Recovery phrase:\n\n    %s\n\n"
	    "Keep this sheet where you keep other keys: it opens your private "
	    "notes.\nOn a new computer: satchel init --name \"%s\" --recover, "
	    "then type the phrase.\nIf both this sheet and your computer are "
	    "lost, your private notes cannot be\nrecovered by anyone.\n",
	    d->name, id, phrase, d->name);
}

int
cmd_recovery(struct device *d, struct args *a)
{
	uint8_t *secret = secmem_alloc(PROTO_PHRASE_SECRET);
	char phrase[PROTO_PHRASE_LEN + 1], path[4200];
	int rc = 0;

	if (secret == NULL)
		return fail("out of memory");
	if (personal_path(d->dir, path, sizeof(path)) != 0 ||
	    access(path, F_OK) != 0) {
		secmem_free(secret);
		return fail_usage("recovery: this device has no recovery "
		    "phrase (a box, or made before phrases: private notes "
		    "need 'satchel init --recover' on a new data directory)");
	}
	if (keyfile_read(path, secret, PROTO_PHRASE_SECRET) != 0)
		rc = fail("recovery: cannot read %s", path);
	else if (!confirmed(a))
		rc = fail_usage("recovery: not shown (answer yes, or give "
		    "--yes)");
	else {
		proto_phrase_encode(secret, phrase);
		if (args_has(a, "sheet"))
			print_sheet(d, phrase);
		else
			printf("%s\n", phrase);
		sodium_memzero(phrase, sizeof(phrase));
	}
	secmem_free(secret);
	return rc;
}

/* satchel scope [private|team]: the default scope of new notes and
 * entries, kept in the store's meta (this device only). */
int
cmd_scope(struct device *d, struct args *a)
{
	const char *scope;
	int rc;

	if (a->npos > 0)
		return ops_scope_set(d, a->pos[0]);
	if ((rc = ops_scope_get(d, &scope)) == 0)
		printf("%s\n", scope);
	return rc;
}
