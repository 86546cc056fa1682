#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>

#include "bindhint.h"

/* The servers an administrator may already run on a well-known port. */
static const char *
usual_holder(int socktype, uint16_t port)
{
	if (socktype == SOCK_DGRAM && port == 67)
		return "the LAN's DHCP server (dnsmasq, Kea, isc-dhcp-server)";
	if (socktype == SOCK_DGRAM && port == 69)
		return "another TFTP server (tftpd-hpa, atftpd, dnsmasq "
		    "--enable-tftp)";
	if (socktype == SOCK_STREAM && port == 10809)
		return "another NBD server (nbd-server, nbdkit, qemu-nbd)";
	return "another server";
}

int
bind_hint(int err, int socktype, uint16_t port, int flags, char *buf,
    size_t len)
{
	const char *ss = socktype == SOCK_STREAM ? "ss -tlpn" : "ss -ulpn";

	switch (err) {
	case EADDRINUSE:
		if (flags & BIND_HINT_SHARED)
			return snprintf(buf, len, "%s holds port %u for "
			    "itself (%s 'sport = :%u' names it): run it so "
			    "that it shares the port (dnsmasq "
			    "--bind-interfaces --interface=IFACE), or on "
			    "another host (dhcpproxyd(8), SOCKETS)",
			    usual_holder(socktype, port), port, ss, port);
		return snprintf(buf, len, "is %s running? %s 'sport = :%u' "
		    "names what holds the port: stop it, or give this one "
		    "another port (-p) or address (-l)",
		    usual_holder(socktype, port), ss, port);
	case EACCES:
	case EPERM:
		if (port >= 1024)
			return snprintf(buf, len, "this system keeps port %u "
			    "from this user (sysctl "
			    "net.ipv4.ip_unprivileged_port_start, or a "
			    "security module): run as root, or choose "
			    "another port (-p)", port);
		return snprintf(buf, len, "ports below 1024 need root: run "
		    "as root (-u USER drops it once the port is bound), or "
		    "give the program CAP_NET_BIND_SERVICE");
	case EADDRNOTAVAIL:
		return snprintf(buf, len, "no interface of this host has "
		    "that address (-l)");
	}
	if (len > 0)
		buf[0] = '\0';
	return 0;
}

int
bind_shared_note(int socktype, uint16_t port, char *buf, size_t len)
{
	const char *ss = socktype == SOCK_STREAM ? "ss -tlpn" : "ss -ulpn";

	if (socktype == SOCK_DGRAM && port == 67)
		return snprintf(buf, len, "port 67 is shared with a program "
		    "that allows it (%s 'sport = :67' names it): both get "
		    "the broadcasts, but only one gets what is sent to this "
		    "host's address, and the LAN's DHCP server keeps its "
		    "renewals only when it is bound to its interface "
		    "(dnsmasq --bind-interfaces --interface=IFACE; "
		    "dhcpproxyd(8), SOCKETS)", ss);
	return snprintf(buf, len, "port %u is shared with a program that "
	    "allows it (%s 'sport = :%u' names it): both get the "
	    "broadcasts, only one what is sent to this host's address",
	    port, ss, port);
}
