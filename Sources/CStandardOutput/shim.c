#include <errno.h>
#include <stdio.h>
#include "CStandardOutput.h"

int gloss_stdout_flush_error(void) {
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) return errno != 0 ? errno : EIO;
    return 0;
}
