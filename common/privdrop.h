/* layer: I/O */
/* Dropping root after the sockets are bound (-u USER). */
#ifndef COMMON_PRIVDROP_H
#define COMMON_PRIVDROP_H

/* Switches to USER's uid, its primary group and its supplementary groups
 * (from the group database, as login(1) and systemd's User= set them), and
 * checks that all of it took and that root cannot be regained. Returns 0,
 * or -1 after logging why. */
int privdrop(const char *user);

#endif
