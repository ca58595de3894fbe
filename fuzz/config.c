/* config.c: libFuzzer target for the YAML configuration loader (untrusted files). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sluice/config.h"
#include "sluice/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/sluice-fuzz-config-%d.yaml", (int)getpid());
		sl_log_level = -1;
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	struct sl_config *cfg = NULL;
	char err[1024];
	if (sl_config_load(path, &cfg, err, sizeof(err)) == 0)
		sl_config_free(cfg);
	return 0;
}
