/*
 * export.c: everything this device holds and can read about one
 * student, as JSON: the family's right of access (issue 12). Face-free:
 * the command line (student export) and the page's API call the same
 * function.
 */
#ifndef SATCHEL_EXPORT_H
#define SATCHEL_EXPORT_H

#include <jansson.h>

#include "satchel.h"

#define EXPORT_FORMAT	"satchel-student-export"
#define EXPORT_VERSION	1	/* bump when a member changes meaning */

/* The export of the student named by student (a name or an id prefix,
 * as show takes it), read in one read-only transaction. 0 with *out a
 * new object the caller json_decref's; or an exit code after saying why
 * (fail_missing: no such student, so the API answers 404). */
int	export_student(struct device *, const char *student, json_t **out);

/* satchel student export STUDENT FILE [--force] */
int	cmd_student_export(struct device *, struct args *);

#endif
