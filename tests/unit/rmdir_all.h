/*
 * rmdir_all: removes a unit test's scratch directory (flat: the store's
 * files, no subfolders). Shared by the tests that make one.
 */
#ifndef RMDIR_ALL_H
#define RMDIR_ALL_H

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

static void
rmdir_all(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && snprintf(path,
			    sizeof(path), "%s/%s", dir, de->d_name) <
			    (int)sizeof(path))
				unlink(path);
		closedir(d);
	}
	rmdir(dir);
}

#endif
