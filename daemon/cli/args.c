/*
 * Command-line flags. Each command declares its flags; anything else is
 * refused with one line naming it, before anything is opened.
 */
#include <string.h>

#include "satchel.h"

/* Finds name in spec; *takes_value and *repeats describe it. */
static int
spec_find(const char *spec, const char *name, size_t len, int *takes_value,
    int *repeats)
{
	const char *p = spec;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		size_t base = strcspn(p, "=,");

		if (base == len && strncmp(p, name, len) == 0) {
			*takes_value = base < n && p[base] == '=';
			*repeats = *takes_value && base + 1 < n &&
			    p[base + 1] == '*';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int
add_flag(struct args *a, const char *name, const char *value,
    int repeats, const char *cmd)
{
	if (!repeats && args_get(a, name) != NULL)
		return fail_usage("%s: --%s given twice", cmd, name);
	if (a->nflags == ARGS_MAX)
		return fail_usage("%s: too many flags", cmd);
	a->flag[a->nflags] = name;
	a->value[a->nflags++] = value;
	return 0;
}

int
args_parse(struct args *a, const char *spec, int argc, char **argv,
    const char *cmd)
{
	int takes, repeats, only_pos = 0;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i], *eq;
		size_t len;

		/* -d DIR is the global option, also after the command. */
		if (!only_pos && (strcmp(arg, "-d") == 0 ||
		    strcmp(arg, "--dir") == 0 || strncmp(arg, "--dir=", 6) == 0)) {
			if (arg[1] == '-' && arg[5] == '=')
				a->dir = arg + 6;
			else if (i + 1 < argc)
				a->dir = argv[++i];
			else
				return fail_usage("%s: %s needs a directory",
				    cmd, arg);
			continue;
		}
		if (only_pos || strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (!only_pos && strcmp(arg, "--") == 0) {
				only_pos = 1;
				continue;
			}
			if (a->npos == ARGS_MAX)
				return fail_usage("%s: too many arguments",
				    cmd);
			a->pos[a->npos++] = arg;
			continue;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (!spec_find(spec, arg, len, &takes, &repeats))
			return fail_usage("%s: unknown flag --%.*s", cmd,
			    (int)len, arg);
		if (eq != NULL)
			*eq = '\0';
		if (!takes && eq != NULL)
			return fail_usage("%s: --%s takes no value", cmd, arg);
		if (takes && eq == NULL && i + 1 >= argc)
			return fail_usage("%s: --%s needs a value", cmd, arg);
		if (add_flag(a, arg, takes ? (eq ? eq + 1 : argv[++i]) : NULL,
		    repeats, cmd) != 0)
			return EXIT_USAGE;
	}
	return 0;
}

const char *
args_get(const struct args *a, const char *name)
{
	for (int i = a->nflags - 1; i >= 0; i--)
		if (strcmp(a->flag[i], name) == 0)
			return a->value[i] ? a->value[i] : "";
	return NULL;
}

int
args_has(const struct args *a, const char *name)
{
	return args_get(a, name) != NULL;
}

int
args_all(const struct args *a, const char *name, const char **out, int max)
{
	int n = 0;

	for (int i = 0; i < a->nflags && n < max; i++)
		if (strcmp(a->flag[i], name) == 0)
			out[n++] = a->value[i];
	return n;
}
