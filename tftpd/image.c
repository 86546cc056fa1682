/* Placeholder until image mode lands: no file is found in any image. */
#include "tftpd/image.h"

enum source_status
image_source_open(int imgfd, int partition, const char *image_name,
    const char *path, struct source **out)
{
	(void)imgfd; (void)partition; (void)image_name; (void)path;
	*out = NULL;
	return SOURCE_NOT_FOUND;
}
