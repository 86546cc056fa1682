/* layer: pure */
/* TFTP wire constants (RFC 1350, 2347, 2348, 2349, 7440) and tftpd's own
 * limits, in one place that the daemon and its tests share. */
#ifndef TFTPD_PROTO_H
#define TFTPD_PROTO_H

/* Opcodes. */
#define TFTP_RRQ	1
#define TFTP_WRQ	2
#define TFTP_DATA	3
#define TFTP_ACK	4
#define TFTP_ERROR	5
#define TFTP_OACK	6

/* Error codes. */
#define TFTP_EUNDEF	0	/* not defined, see message */
#define TFTP_ENOTFOUND	1	/* file not found */
#define TFTP_EACCESS	2	/* access violation */
#define TFTP_ENOSPACE	3	/* disk full */
#define TFTP_EBADOP	4	/* illegal TFTP operation */
#define TFTP_EBADID	5	/* unknown transfer ID */
#define TFTP_EEXISTS	6	/* file already exists */
#define TFTP_ENOUSER	7	/* no such user */
#define TFTP_EOPTNEG	8	/* option negotiation failed (RFC 2347) */

#define TFTP_HDR_LEN		4	/* opcode + block number */
#define TFTP_DEFAULT_BLKSIZE	512
#define TFTP_BLKSIZE_MIN	8	/* RFC 2348 */
#define TFTP_BLKSIZE_MAX	65464	/* RFC 2348; larger requests are
					 * negotiated down to this */
#define TFTP_TIMEOUT_MIN	1	/* seconds, RFC 2349 */
#define TFTP_TIMEOUT_MAX	255
#define TFTP_WINDOWSIZE_MIN	1	/* RFC 7440 */
#define TFTP_WINDOWSIZE_MAX	65535

/* tftpd's limits. A window is held in memory, so its size bounds the
 * memory of a transfer: windowsize is negotiated down until the window
 * fits WINDOW_BYTES_MAX (and to at most WINDOWSIZE_CAP blocks). */
#define TFTPD_WINDOWSIZE_CAP	64
#define TFTPD_WINDOW_BYTES_MAX	(1024 * 1024)
#define TFTPD_READAHEAD_BYTES	(32 * 1024)	/* read at once, at least */
#define TFTPD_DEFAULT_TIMEOUT	1	/* seconds: only a placeholder; with no
					 * timeout option the timer follows the
					 * round trip (rto.h) */
#define TFTPD_RETRIES		5	/* with a timeout option: retransmissions
					 * before giving up */
#define TFTPD_PATH_MAX		512	/* longest file name accepted */
#define TFTPD_OPTIONS_MAX	16	/* options kept from one request */
#define TFTPD_PACKET_MAX	65536	/* largest datagram read */
/* What a client sends to a transfer's port, ACKs and ERRORs, fits this;
 * longer is an ERROR's message, cut short. */
#define TFTPD_XFER_RX_MAX	1024
#define TFTPD_EVENTS_MAX	64	/* events taken per epoll_wait */

#endif
