/* Dropping root after the sockets are bound (-u USER). */
#ifndef COMMON_PRIVDROP_H
#define COMMON_PRIVDROP_H

/* Switches groups, gid and uid to USER's and checks that root cannot be
 * regained. Returns 0, or -1 after logging why. */
int privdrop(const char *user);

#endif
