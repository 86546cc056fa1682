#include "bootpick.h"

enum boot_entry_type
bootpick(const char *const *names, size_t n, bootpick_look_fn look,
    void *ctx, size_t *picked)
{
	enum boot_entry_type type;

	for (size_t i = 0; i < n; i++) {
		/* A broken entry stops the search like a good one. */
		if ((type = look(ctx, names[i])) != BOOT_ENTRY_NONE) {
			*picked = i;
			return type;
		}
	}
	*picked = n;
	return BOOT_ENTRY_NONE;
}
