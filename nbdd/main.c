/* nbdd: NBD server exporting /srv/NAME.img as export NAME, one writer at a time. (Placeholder main until the daemon lands.) */
#include <stdio.h>
#include <stdlib.h>

#include "common/cmdline.h"
#include "common/log.h"

int
main(int argc, char *argv[])
{
	static const struct cmdline_spec spec = {
		.progname = "nbdd",
		.summary = "NBD server exporting /srv/NAME.img as export NAME, one writer at a time",
		.default_root = "/srv",
		.default_port = 10809,
	};
	struct cmdline cl;

	switch (cmdline_parse(&cl, &spec, argc, argv, stdout, stderr)) {
	case CMDLINE_EXIT_OK:
		return 0;
	case CMDLINE_EXIT_USAGE:
		return 2;
	case CMDLINE_RUN:
		break;
	}
	log_init(spec.progname, cl.use_syslog, cl.verbose);
	log_fatal("not implemented yet");
}
