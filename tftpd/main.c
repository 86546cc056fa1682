/* tftpd: read-only TFTP server for Raspberry Pi boot files. (Placeholder main until the daemon lands.) */
#include <stdio.h>
#include <stdlib.h>

#include "common/cmdline.h"
#include "common/log.h"

int
main(int argc, char *argv[])
{
	static const struct cmdline_spec spec = {
		.progname = "tftpd",
		.summary = "read-only TFTP server for Raspberry Pi boot files",
		.default_root = "/srv/boot",
		.default_port = 69,
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
