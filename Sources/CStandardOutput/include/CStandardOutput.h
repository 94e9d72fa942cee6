#ifndef GLOSS_CSTANDARDOUTPUT_H
#define GLOSS_CSTANDARDOUTPUT_H

/// Flushes C's standard output and reports whether anything written to it was lost: 0 when all of
/// it reached its file, else an errno value (EIO when the failure left none). Swift 6 refuses a
/// reference to C's `stdout` (shared mutable state), and `fflush(NULL)` alone misses a write that
/// failed earlier and left nothing in the buffer; `ferror(stdout)` remembers it.
int gloss_stdout_flush_error(void);

#endif
