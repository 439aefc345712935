/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/ini: the INI format of the config file and the evacuate plan. */
#ifndef QMIGRATE_CLI_INI_H
#define QMIGRATE_CLI_INI_H

#include <stddef.h>

/*
 * Lines are "key = value", a bare "key" (a flag: value ""), "[section]",
 * blank, or comments starting with '#' or ';'.  Whitespace around keys and
 * values is dropped; a value may be wrapped in double quotes.  For each entry
 * the callback gets the section ("" before the first header) and, at a header,
 * key NULL.  It returns 0, or -1 with a message in err (the parser puts
 * "FILE:LINE: " in front).
 */
typedef int ini_entry_fn(void *opaque, const char *section, const char *key,
                         const char *value, char *err, size_t errlen);

/* 0, or -1 with "FILE:LINE: what is wrong" in err.  No I/O. */
int ini_parse(const char *text, const char *filename, ini_entry_fn *entry,
              void *opaque, char *err, size_t errlen);

#endif /* QMIGRATE_CLI_INI_H */
