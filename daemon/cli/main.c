/*
 * satchel: the command line. Parses the global options, finds the
 * command, checks its flags and arguments, opens the device and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "phrase.h"
#include "satchel.h"
#include "export.h"

static int cmd_id(struct device *, struct args *);

static const struct command commands[] = {
	{ "id", cmd_id, "hex", 0, 0, "satchel id [--hex]",
	  "Print this device's id, to give to the team's admin: 8 groups of "
	  "7 letters and\ndigits with a check against typos. --hex prints "
	  "the old 64-hex form instead.\n"
	  "  example: satchel id" },
	{ "student add", cmd_student_add,
	  "class=,strengths=,needs=,interests=,goals=,same-name", 1, 1,
	  "satchel student add NAME [--class C] [--strengths T] [--needs T] "
	  "[--interests T] [--goals T] [--same-name]",
	  "Add a student; prints the new id. A name a student already has is "
	  "refused\nunless --same-name says this is another student.\n"
	  "  example: satchel student add \"Ana Lopez\" --class 3B "
	  "--interests \"horses\"" },
	{ "student edit", cmd_edit,
	  "name=,class=,strengths=,needs=,interests=,goals=", 1, 1,
	  "satchel student edit STUDENT [--name N] [--class C] [--strengths T] "
	  "[--needs T] [--interests T] [--goals T]",
	  "Change any field of a student's profile.\n"
	  "  example: satchel student edit \"Ana Lopez\" --needs \"fluency\"" },
	{ "student list", cmd_student_list, "class=,json", 0, 0,
	  "satchel student list [--class C] [--json]",
	  "List students by name; likely duplicates (the same name and "
	  "class) are marked,\nwith the command that merges them.\n"
	  "  example: satchel student list --class 3B" },
	{ "student import", cmd_student_import, "dry-run", 1, 1,
	  "satchel student import ROSTER.csv [--dry-run]",
	  "Add or update students from a roster: a CSV file whose first row "
	  "names the columns:\nname, class, and any of strengths, needs, "
	  "interests, goals, external_id. A row is\nthe student with its "
	  "external_id, else the one with its name and class, else a new\n"
	  "one; empty cells change nothing, and importing the same roster "
	  "again changes\nnothing. A bad row stops the import, with its line "
	  "number, before anything is\nwritten. --dry-run shows what would "
	  "change.\n"
	  "  example: satchel student import roster.csv --dry-run" },
	{ "student export", cmd_student_export, "force", 2, 2,
	  "satchel student export STUDENT FILE [--force]",
	  "Write everything this device holds and can read about one student "
	  "to FILE, as JSON:\nwhat a family may ask to see. Each note, entry, "
	  "goal and group membership comes\nwith who wrote it and when, and "
	  "its history; private notes this device cannot\nread are counted. "
	  "FILE is made with mode 0600 and never replaced without --force.\n"
	  "Erasing the student later does not reach this file.\n"
	  "  example: satchel student export \"Ana Lopez\" ana-lopez.json" },
	{ "student merge", cmd_student_merge, "", 2, 2,
	  "satchel student merge KEEP OTHER",
	  "Two records of one student (added twice, say by two teachers "
	  "offline) become\none: OTHER's notes, entries, goals and groups "
	  "show under KEEP on every device,\nand KEEP's empty profile "
	  "fields are filled from OTHER. Both keep their history.\n"
	  "  example: satchel student merge 3f2a 9c41" },
	{ "student erase", cmd_student_erase, "", 1, 1,
	  "satchel student erase STUDENT",
	  "Admins only. Erases a student on request: their record, and every "
	  "note, entry,\ngoal and group membership about them, whoever wrote "
	  "it, on this device, every\nother device and the box as the erase "
	  "reaches them. The erase itself (who\nordered it, and when) stays "
	  "in the log. It cannot reach backups of a data\nfolder, bundles "
	  "already on USB sticks, or files from student export.\n"
	  "  example: satchel student erase \"Ben Okafor\"" },
	{ "note add", cmd_note_add,
	  "strengths=,obstacle=,action=,date=,follow-up=,student-words=,"
	  "private,team", 1, 1,
	  "satchel note add STUDENT --strengths T --obstacle T --action T "
	  "[--date YYYY-MM-DD] [--follow-up YYYY-MM-DD] [--student-words T] "
	  "[--private|--team]",
	  "Record a conference note; prints its id. The date defaults to today.\n"
	  "--private seals it so that only your own devices can read it (see "
	  "'satchel scope').\n"
	  "  example: satchel note add \"Ana Lopez\" --strengths \"retells well\" "
	  "--obstacle \"skips endings\" --action \"reread last page\"" },
	{ "note edit", cmd_edit,
	  "strengths=,obstacle=,action=,date=,follow-up=,student-words=", 1, 1,
	  "satchel note edit NOTE [--strengths T] [--obstacle T] [--action T] "
	  "[--date D] [--follow-up D] [--student-words T]",
	  "Change a conference note.\n"
	  "  example: satchel note edit 3f2a --action \"partner reading\"" },
	{ "entry add", cmd_entry_add,
	  "title=,body=,tag=*,date=,unit=,slice=,score=,private,team", 1, 1,
	  "satchel entry add STUDENT --title T [--body T] [--tag TAG]... "
	  "[--date YYYY-MM-DD] [--unit UNIT [--slice pre|formative|post] "
	  "[--score N]] [--private|--team]",
	  "Add a portfolio entry; prints its id. With --unit, the entry is "
	  "part of that unit's\nassessment: its pre-assessment, a formative "
	  "check or its post-assessment.\n"
	  "--private: only your own devices can read it.\n"
	  "  example: satchel entry add \"Ana Lopez\" --title \"Fractions quiz\" "
	  "--tag pre-assessment" },
	{ "entry edit", cmd_edit,
	  "title=,body=,date=,tag=*,untag=*,slice=,score=", 1, 1,
	  "satchel entry edit ENTRY [--title T] [--body T] [--date D] "
	  "[--tag TAG]... [--untag TAG]... [--slice S] [--score N]",
	  "Change a portfolio entry or its tags.\n"
	  "  example: satchel entry edit 3f2a --tag formative" },
	{ "group add", cmd_group_add,
	  "same-need,mixed,member=*,from=,until=", 1, 1,
	  "satchel group add NAME --same-need|--mixed [--member STUDENT]... "
	  "[--from D] [--until D]",
	  "Make a small group: lettered groups share a need, numbered ones "
	  "are mixed.\n"
	  "  example: satchel group add \"Group A\" --same-need --member "
	  "\"Ana Lopez\"" },
	{ "group edit", cmd_edit, "name=,from=,until=", 1, 1,
	  "satchel group edit GROUP [--name N] [--from D] [--until D]",
	  "Rename a group or change its dates.\n"
	  "  example: satchel group edit \"Group A\" --until 2027-01-31" },
	{ "group move", cmd_group_move, "", 3, 3,
	  "satchel group move STUDENT FROM_GROUP TO_GROUP",
	  "Move a student from one group to another, in one step.\n"
	  "  example: satchel group move \"Ben Okafor\" \"Group A\" "
	  "\"Group 2\"" },
	{ "group join", cmd_group_join, "", 2, 2,
	  "satchel group join GROUP STUDENT",
	  "Put a student in a group.\n"
	  "  example: satchel group join \"Group A\" \"Ben Okafor\"" },
	{ "group leave", cmd_group_leave, "", 2, 2,
	  "satchel group leave GROUP STUDENT",
	  "Take a student out of a group.\n"
	  "  example: satchel group leave \"Group A\" \"Ben Okafor\"" },
	{ "goal add", cmd_goal_add, "checkpoint=*", 2, 2,
	  "satchel goal add STUDENT TEXT [--checkpoint DATE:TEXT]...",
	  "Set a personal learning goal with up to 9 checkpoints.\n"
	  "  example: satchel goal add \"Ana Lopez\" \"Read 20 minutes a day\" "
	  "--checkpoint 2026-12-01:\"half way\"" },
	{ "goal edit", cmd_edit, "text=", 1, 1,
	  "satchel goal edit GOAL --text T", "Reword a goal.\n"
	  "  example: satchel goal edit 7c1e --text \"Read 30 minutes a day\"" },
	{ "goal check", cmd_goal_check, "", 2, 2, "satchel goal check GOAL N",
	  "Mark checkpoint N of a goal done.\n"
	  "  example: satchel goal check 7c1e 1" },
	{ "goal move", cmd_goal_move, "", 3, 3,
	  "satchel goal move GOAL N YYYY-MM-DD",
	  "Move checkpoint N of a goal to another date; history keeps the "
	  "old one.\n  example: satchel goal move 7c1e 1 2026-12-15" },
	{ "unit add", cmd_unit_add, "from=,until=", 1, 1,
	  "satchel unit add NAME [--from D] [--until D]",
	  "Start a unit of teaching; prints its id. Entries name it with "
	  "--unit.\n"
	  "  example: satchel unit add \"Fractions\" --from 2026-11-02 "
	  "--until 2026-12-11" },
	{ "unit edit", cmd_edit, "name=,from=,until=", 1, 1,
	  "satchel unit edit UNIT [--name N] [--from D] [--until D]",
	  "Rename a unit or change its dates.\n"
	  "  example: satchel unit edit 5d2e --until 2026-12-18" },
	{ "show", cmd_show, "json,limit=,all", 1, 1,
	  "satchel show STUDENT [--limit N | --all] [--json]",
	  "One page for a student: profile, groups, goals, then notes and "
	  "entries, newest first: the\n  newest 50 unless --limit N or "
	  "--all says otherwise.\n  example: satchel show \"Ana Lopez\"" },
	{ "delete", cmd_delete, "", 1, 1, "satchel delete ID",
	  "Delete a record. It stays in the log and can be brought back.\n"
	  "  example: satchel delete 3f2a" },
	{ "undelete", cmd_undelete, "", 1, 1, "satchel undelete ID",
	  "Bring a deleted record back.\n  example: satchel undelete 3f2a" },
	{ "history", cmd_history, "json", 1, 1, "satchel history ID [--json]",
	  "Every change to a record: when, which device, what; conflicts "
	  "marked.\n  example: satchel history \"Ana Lopez\"" },
	{ "conflicts", cmd_conflicts, "json", 0, 0, "satchel conflicts [--json]",
	  "Every field where a concurrent edit lost, with both values and the "
	  "command that puts the lost one back.\n  example: satchel conflicts" },
	{ "restore", cmd_restore, "", 3, 3,
	  "satchel restore ID FIELD AUTHOR:SEQ",
	  "Put back a value that lost a conflict (as 'satchel conflicts' "
	  "shows); this settles the conflict.\n"
	  "  example: satchel restore 3f2a needs 5be1c9a0d2e4:7" },
	{ "search", cmd_search, "json", 1, 31, "satchel search WORD... [--json]",
	  "Notes, entries and students holding every WORD as a word or the "
	  "start of one,\n  in any order (any case; accents on Latin, Greek "
	  "and Cyrillic letters ignored).\n  Exits 1 if none does, like "
	  "grep.\n"
	  "  example: satchel search fluen read" },
	{ "dump", cmd_dump, "", 0, 0, "satchel dump",
	  "Every readable record as JSON, in a stable order.\n"
	  "  example: satchel dump > backup.json" },
	{ "recovery", cmd_recovery, "yes,sheet", 0, 0,
	  "satchel recovery [--yes] [--sheet]",
	  "Show this teacher's recovery phrase again, after you confirm; "
	  "--sheet lays it out\nas a page to print. The phrase opens your "
	  "private notes on a new or second\ncomputer (satchel init --name N "
	  "--recover).\n  example: satchel recovery --sheet | lp" },
	{ "scope", cmd_scope, "", 0, 1, "satchel scope [private|team]",
	  "Show or set whether new notes and entries are private (only your "
	  "own devices read\nthem) or the team's, unless --private or --team "
	  "says otherwise.\n  example: satchel scope private" },
	{ "digest", cmd_digest, "", 0, 0, "satchel digest",
	  "One line: a hash of the whole state. Devices that hold the same "
	  "changes print the same digest.\n  example: satchel digest" },
	{ "member add", cmd_member_add, "name=,box,admin,addr=*", 1, 1,
	  "satchel member add DEVICE_ID --name NAME [--admin|--box] "
	  "[--addr HOST:PORT]...",
	  "Add a colleague's device (or the staff-room box) to the team; "
	  "prints an invite token\nto give them by any channel. Admins only. "
	  "DEVICE_ID is what 'satchel id' prints on\nthat device. --admin "
	  "makes it an admin too (it may add, remove and change members).\n"
	  "--addr is this device's own address, which the new device will "
	  "dial.\n"
	  "  example: satchel member add P56IOI7-MZJNU2Y-... --name \"Mr. "
	  "Kim\" --addr 192.168.1.20:7420" },
	{ "member role", cmd_member_role, "", 2, 2,
	  "satchel member role DEVICE_ID admin|teacher",
	  "Make a member an admin, or an admin a teacher again. Admins only; "
	  "the team keeps at\nleast one admin, and a box stays a box.\n"
	  "  example: satchel member role P56IOI7-MZJNU2Y-... admin" },
	{ "member remove", cmd_member_remove, "lost", 1, 1,
	  "satchel member remove DEVICE_ID [--lost]",
	  "Remove a device from the team (a laptop lost, or a colleague who "
	  "left; an invited\ndevice that never joined too). Admins only. Its "
	  "entries up to the last one this device\nholds stay; every member "
	  "refuses any later one. --lost: the laptop was lost.\n"
	  "  example: satchel member remove P56IOI7-MZJNU2Y-... --lost" },
	{ "member list", cmd_member_list, "json", 0, 0,
	  "satchel member list [--json]", "The team's devices: id, role, "
	  "joined or invited or removed, name, who added\nit and when, who "
	  "removed it and when, when this device last heard from it.\n"
	  "  example: satchel member list" },
	{ "member report", cmd_member_report, "json", 1, 1,
	  "satchel member report DEVICE_ID [--json]",
	  "The exposure report of a device (a lost laptop): which students' "
	  "records it held,\nas of the last entries it is known to have "
	  "received, by name and class, and the\ndate of its last sync. It "
	  "rests on the receipts the devices it synced with wrote:\nsync with "
	  "the box first. Where they are incomplete it lists too many "
	  "students,\nand says which entries are uncertain. --json gives the "
	  "same for a letter to families.\n"
	  "  example: satchel member report P56IOI7-MZJNU2Y-... --json" },
	{ "join", cmd_join, "", 1, ARGS_MAX, "satchel join TOKEN",
	  "Join the team with the invite 'satchel member add' printed for this "
	  "device;\nspaces and line breaks in it are ignored. Shows the team's "
	  "fingerprint:\ncompare it with the one 'satchel status' shows on the "
	  "inviting device.\n"
	  "  example: satchel join 'satchel-invite:mQHE...'" },
	{ "peer add", cmd_peer_add, "", 1, 2, "satchel peer add HOST[:PORT] "
	  "[DEVICE_ID]", "Sync with the device at HOST (an address or a host "
	  "name; port 7420 unless\ngiven); with DEVICE_ID (as 'satchel id' "
	  "prints it, or its old 64-hex form),\nonly with that device there.\n"
	  "  example: satchel peer add staffroom.local" },
	{ "peer list", cmd_peer_list, "json", 0, 0, "satchel peer list [--json]",
	  "The peers this device syncs with: added ones, and those found on "
	  "the LAN.\n  example: satchel peer list" },
	{ "peer remove", cmd_peer_remove, "", 1, 1,
	  "satchel peer remove HOST[:PORT]",
	  "Stop syncing with a peer.\n"
	  "  example: satchel peer remove 192.168.1.20:7420" },
	{ "export", cmd_export, "for=", 1, 1,
	  "satchel export FILE [--for DEVICE_ID]",
	  "Write a bundle for a USB stick: every entry, or only what DEVICE_ID "
	  "lacks as far as\nthis device knows (DEVICE_ID as 'satchel id' "
	  "prints it, or its old 64-hex form).\n"
	  "  example: satchel export /media/usb/satchel.bundle" },
	{ "import", cmd_import, "json", 1, 1, "satchel import FILE [--json]",
	  "Verify and apply a bundle. Importing it twice changes nothing. A "
	  "long import shows\nits progress (--json: as JSON lines).\n"
	  "  example: satchel import /media/usb/satchel.bundle" },
	{ "serve", cmd_serve,
	  "listen=,port-file=,http=,no-http,http-remote,http-idle=,"
	  "no-discovery", 0, 0,
	  "satchel serve [--listen HOST:PORT] [--port-file FILE] "
	  "[--http HOST:PORT | --no-http] [--http-remote] [--http-idle S] "
	  "[--no-discovery]",
	  "The daemon: listens for peers (default 0.0.0.0:7420), keeps "
	  "connections to the\npeers it knows, and pushes new entries as soon "
	  "as they are written. Runs in the\nforeground, logs to stderr, stops "
	  "cleanly on SIGTERM. Port 0 takes any free\nport; the log line "
	  "\"serving on HOST:PORT\" and --port-file FILE tell which\n"
	  "(the file is written last, once the daemon is ready).\n"
	  "It also serves the teacher's page and its API on --http (default "
	  "127.0.0.1:7421;\nport 0: any free port, written to DIR/http.addr); "
	  "'satchel open' prints a login\nlink. A taken port costs the page, "
	  "not the sync. Loopback only unless\n--http-remote; a session "
	  "locks after --http-idle seconds (1800) left alone.\n"
	  "It finds the team's devices on the LAN (UDP 7420) unless "
	  "--no-discovery or it\nlistens on loopback.\n"
	  "  example: satchel serve --listen 0.0.0.0:7420" },
	{ "open", cmd_open, "no-browser", 0, 0, "satchel open [--no-browser]",
	  "Print a one-time login link for the page of the running 'satchel "
	  "serve' (valid\n5 minutes, once), and open it in the browser where "
	  "there is a display.\n"
	  "  example: satchel open" },
	{ "sync", cmd_sync, "json", 0, 1, "satchel sync [HOST:PORT] [--json]",
	  "Sync once with one peer, or with every peer, then exit. Works with "
	  "or without a\ndaemon running. It takes what the peer held when it "
	  "connected; what reaches\nthe peer meanwhile comes with the next "
	  "sync. A long sync shows its progress\n(--json: as JSON lines).\n"
	  "  example: satchel sync "
	  "192.168.1.20:7420" },
	{ "status", cmd_status, "json", 0, 0, "satchel status [--json]",
	  "This device, its peers (connected or not, last sync, entries each "
	  "side lacks)\nand open conflicts.\n  example: satchel status" },
	{ "fork repair", cmd_fork_repair, "", 0, 0, "satchel fork repair",
	  "After this device's log forked (it was restored from a backup, or "
	  "its folder was\ncopied to another laptop, and wrote again): give it "
	  "a new identity and re-write\nunder it every change made since the "
	  "fork; prints the new id, for 'satchel\nmember add' on a colleague's "
	  "device, then 'satchel join TOKEN' here.\n"
	  "  example: satchel fork repair" },
	{ "protect", cmd_protect, "passphrase-file=", 0, 0,
	  "satchel protect [--passphrase-file FILE]",
	  "Seal this device's keys under a passphrase, so that its folder "
	  "copied or stolen\nwhile Satchel is stopped opens for no one "
	  "without it (init does this when it\ncan ask). The passphrase "
	  "is typed twice, or read from FILE; the desktop\nkeyring keeps "
	  "it for the login session where there is one. Run again, it\n"
	  "seals any key still in the clear.\n"
	  "  example: satchel protect" },
	{ "passphrase", cmd_passphrase, "new-file=", 0, 0,
	  "satchel passphrase [--new-file FILE]",
	  "Change the passphrase of this device's keys: the current one "
	  "opens them as for any\ncommand, the new one is typed twice or "
	  "read from FILE.\n"
	  "  example: satchel passphrase" },
	{ "verify", cmd_verify, "", 0, 0, "satchel verify",
	  "Check every log chain and signature, and that the records equal a "
	  "replay of the log.\n  example: satchel verify" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* Commands that read or write records, which a box cannot. */
static int
content_command(const struct command *c)
{
	static int (*const relay_ok[])(struct device *, struct args *) = {
		cmd_id, cmd_verify, cmd_join, cmd_member_list, cmd_peer_add,
		cmd_peer_list, cmd_peer_remove, cmd_export, cmd_import,
		cmd_serve, cmd_sync, cmd_status, cmd_open, cmd_protect,
		cmd_passphrase,
	};

	for (size_t i = 0; i < sizeof(relay_ok) / sizeof(relay_ok[0]); i++)
		if (c->fn == relay_ok[i])
			return 0;
	return 1;
}

static int
cmd_id(struct device *d, struct args *a)
{
	char out[2 * PROTO_IDLEN + PROTO_DEVID_LEN + 2];

	if (args_has(a, "hex"))
		sodium_bin2hex(out, sizeof(out), d->id, sizeof(d->id));
	else
		devid_format(d->id, out);
	printf("%s\n", out);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: satchel [-d DIR] COMMAND [ARGS]\n\n"
	    "Satchel keeps student portfolios and conference notes on this "
	    "computer\nand shares them with colleagues' devices directly.\n\n"
	    "  satchel init --name NAME [--box]\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "  satchel --version\n  satchel --help\n"
	    "\nThe data directory is -d DIR (before or after the command), "
	    "else $SATCHEL_HOME,\nelse ~/.local/share/satchel. STUDENT and "
	    "GROUP may be a name or any unique\nprefix of an id. 'satchel "
	    "COMMAND --help' explains one command.\n"
	    "Exit codes: 0 done; 1 failed (the store, the disk, a peer; "
	    "search found nothing);\n2 refused what was typed, and wrote "
	    "nothing.\n");
}

static int	init_args(const char *, const struct args *);

static int
cmd_init(const char *dir, int argc, char **argv)
{
	struct text_pool pool = { 0 };
	struct args a;
	int rc;

	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: satchel init --name NAME [--box | "
			    "--recover] [--no-protect]\n\n"
			    "Make this device's identity and store, with a "
			    "team of one; prints the device id.\n"
			    "A teacher's device also gets a recovery phrase, "
			    "shown once on stderr.\n"
			    "--recover takes the phrase of your other or "
			    "earlier device instead (from the\nterminal or "
			    "stdin), so that this one reads your private "
			    "notes too.\n"
			    "--box makes a staff-room box, which relays and "
			    "backs up but can read nothing.\n"
			    "A teacher's keys are sealed under a passphrase, "
			    "typed twice (or read from\n$SATCHEL_PASSPHRASE_FILE"
			    "); --no-protect keeps them in the clear. A box's "
			    "are\nkept in the clear (see 'satchel protect').\n"
			    "  example: satchel init --name \"Ms. Rivera\"\n");
			return 0;
		}
	if ((rc = args_parse(&a, "name=,box,recover,no-protect", argc, argv,
	    "init")) != 0)
		return rc;
	keys_want(!args_has(&a, "no-protect"));
	if (a.dir != NULL)
		dir = a.dir;
	if ((rc = text_args_nfc(&a, "init --name NAME", 0, &pool)) == 0)
		rc = init_args(dir, &a);
	text_pool_free(&pool);
	return rc;
}

/* A teacher's device gets a personal key: from the phrase given with
 * --recover (read and checked before anything is written), or new. */
static int
init_with_phrase(const char *dir, const char *name, int box, int recover)
{
	uint8_t *secret;
	int rc;

	if (box && recover)
		return fail_usage("init: a box has no recovery phrase; give "
		    "--box or --recover, not both");
	if (box)
		return device_init(dir, name, 1);
	if ((secret = secmem_alloc(PROTO_PHRASE_SECRET)) == NULL)
		return fail("init: out of memory");
	if (recover)
		rc = recovery_read(secret);
	else {
		randombytes_buf(secret, PROTO_PHRASE_SECRET);
		rc = 0;
	}
	if (rc == 0 && (rc = device_init(dir, name, 0)) == 0 &&
	    (rc = recovery_save(dir, secret)) == 0 && !recover)
		recovery_announce(secret);
	secmem_free(secret);
	return rc;
}

/* init, once its arguments are text in NFC. */
static int
init_args(const char *dir, const struct args *a)
{
	const char *name;

	if (a->npos > 0)
		return fail_usage("init: unexpected argument '%s'", a->pos[0]);
	name = args_get(a, "name");
	if (name == NULL && args_has(a, "box"))
		name = "staff-room box";
	if (name == NULL)
		return fail_usage("init: --name is required (the name "
		    "colleagues see)");
	if (*name == '\0' || !valid_text(name, NAME_MAX_LEN))
		return fail_usage("init: --name: %s", *name == '\0' ?
		    "must not be empty" : text_problem(name, NAME_MAX_LEN,
		    PROTO_TEXT_LINE));
	return init_with_phrase(dir, name, args_has(a, "box"),
	    args_has(a, "recover"));
}

/* Finds the command named by one or two words; *used says how many. */
static const struct command *
find_command(int argc, char **argv, int *used)
{
	char two[64];

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (strcmp(commands[i].name, two) == 0) {
				*used = 2;
				return &commands[i];
			}
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, argv[0]) == 0) {
			*used = 1;
			return &commands[i];
		}
	return NULL;
}

static int
wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* How many leading positionals are kept as the bytes given: file names,
 * and the pieces of an invite. */
static int
path_args(const struct command *c)
{
	/* An invite is checked by join, whatever line breaks it carries. */
	if (c->fn == cmd_join)
		return ARGS_MAX;
	return c->fn == cmd_export || c->fn == cmd_import ||
	    c->fn == cmd_student_import;
}

static int	run_args(const struct command *, const char *, struct args *);

static int
run(const struct command *c, const char *dir, int argc, char **argv)
{
	struct text_pool pool = { 0 };
	struct args a;
	int rc;

	if (wants_help(argc, argv)) {
		printf("usage: %s\n\n%s\n", c->usage, c->help);
		return 0;
	}
	if ((rc = args_parse(&a, c->flags, argc, argv, c->name)) != 0)
		return rc;
	if ((rc = text_args_nfc(&a, c->usage, path_args(c), &pool)) != 0) {
		text_pool_free(&pool);
		return rc;
	}
	rc = run_args(c, dir, &a);
	text_pool_free(&pool);
	return rc;
}

/* Runs c once its arguments are text in NFC. */
static int
run_args(const struct command *c, const char *dir, struct args *a)
{
	struct device d;
	int rc;

	if (a->npos < c->min_pos)
		return fail_usage("%s: missing argument (usage: %s)", c->name,
		    c->usage);
	if (a->npos > c->max_pos)
		return fail_usage("%s: unexpected argument '%s'", c->name,
		    a->pos[c->max_pos]);
	if (a->dir != NULL)
		dir = a->dir;	/* -d DIR after the command */
	if ((rc = device_open(&d, dir)) != 0)
		return rc;
	d.json = args_has(a, "json");
	if (content_command(c) && d.content == NULL)
		rc = fail_usage("%s: this device is a box; it relays and backs "
		    "up entries but cannot read or write records", c->name);
	else
		rc = c->fn(&d, a);
	/* A clock far from the peers' is said after every command but a
	 * refused one (one line, exit 2) and status, which shows it. */
	if (rc != EXIT_USAGE && c->fn != cmd_status)
		clock_warn(&d);
	device_close(&d);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *flag_dir = NULL, *dir;
	char buf[4096];
	const struct command *c;
	int used, i = 1;

	if (sodium_init() < 0)
		return fail("cannot initialise libsodium");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((strcmp(argv[i], "-d") == 0 ||
		    strcmp(argv[i], "--dir") == 0) && i + 1 < argc)
			flag_dir = argv[++i];
		else if (strcmp(argv[i], "--version") == 0) {
			printf("satchel %s\n", SATCHEL_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else
			return fail_usage("unknown option %s (see satchel "
			    "--help)", argv[i]);
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((dir = device_dir(flag_dir, buf, sizeof(buf))) == NULL)
		return fail_usage("no data directory: use -d DIR or set "
		    "SATCHEL_HOME");
	if (strcmp(argv[i], "init") == 0)
		return cmd_init(dir, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if ((c = find_command(argc - i, argv + i, &used)) == NULL)
		return fail_usage("unknown command '%s' (see satchel --help)",
		    argv[i]);
	return run(c, dir, argc - i - used, argv + i + used);
}
