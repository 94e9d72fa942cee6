#ifndef GLOSS_CSQLITEPREUPDATE_H
#define GLOSS_CSQLITEPREUPDATE_H

// SQLite's preupdate hook, which <sqlite3.h> declares only when SQLITE_ENABLE_PREUPDATE_HOOK is
// defined (Debian's libsqlite3 is built with it). Connections and values are passed as untyped
// pointers so that this header does not redeclare SQLite's types for Swift.

/// Called before each row change of a real table: op is SQLITE_INSERT, SQLITE_DELETE or SQLITE_UPDATE.
typedef void (*gloss_preupdate_callback)(void *context, void *db, int op, const char *database, const char *table);

/// Installs (or, with a NULL callback, removes) the connection's preupdate hook. The callback must be
/// the same function on every call (one callback for the process; the context tells connections apart).
void gloss_preupdate_install(void *db, gloss_preupdate_callback callback, void *context);
/// Number of columns of the row being changed.
int gloss_preupdate_count(void *db);
/// The i-th column before the change (UPDATE, DELETE) or after it (INSERT, UPDATE); NULL on misuse.
void *gloss_preupdate_old(void *db, int i);
void *gloss_preupdate_new(void *db, int i);
/// 1 when this library was built with the preupdate hook.
int gloss_preupdate_available(void);

#endif
