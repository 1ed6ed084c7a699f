/*
 * GET students/{id}/export: student export's JSON (export.c), for the
 * page. Nothing is written: the family's copy is the caller's to keep.
 */
#include <string.h>

#include "export.h"
#include "http.h"

void
api_student_export(struct device *d, const char *id, struct http_reply *rep)
{
	struct ops_err e, *was;
	json_t *o;
	int rc;

	memset(&e, 0, sizeof(e));
	was = err_capture(&e);
	rc = export_student(d, id, &o);
	err_capture(was);
	if (rc != 0)
		reply_error(rep, e.status ? (unsigned)e.status : 500, "%s",
		    e.msg);
	else
		reply_json(rep, 200, o);
}
