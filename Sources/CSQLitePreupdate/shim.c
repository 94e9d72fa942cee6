#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include "CSQLitePreupdate.h"

// The one callback (the same function for every connection; set before any hook is installed).
static gloss_preupdate_callback the_callback = 0;

static void trampoline(void *context, sqlite3 *db, int op, const char *database, const char *table,
                       sqlite3_int64 key1, sqlite3_int64 key2) {
    (void)key1; (void)key2;
    the_callback(context, db, op, database, table);
}

void gloss_preupdate_install(void *db, gloss_preupdate_callback callback, void *context) {
    if (callback == 0) { sqlite3_preupdate_hook((sqlite3 *)db, 0, 0); return; }
    the_callback = callback;
    sqlite3_preupdate_hook((sqlite3 *)db, trampoline, context);
}

int gloss_preupdate_count(void *db) { return sqlite3_preupdate_count((sqlite3 *)db); }

void *gloss_preupdate_old(void *db, int i) {
    sqlite3_value *v = 0;
    return sqlite3_preupdate_old((sqlite3 *)db, i, &v) == SQLITE_OK ? (void *)v : 0;
}

void *gloss_preupdate_new(void *db, int i) {
    sqlite3_value *v = 0;
    return sqlite3_preupdate_new((sqlite3 *)db, i, &v) == SQLITE_OK ? (void *)v : 0;
}

int gloss_preupdate_available(void) { return 1; }
