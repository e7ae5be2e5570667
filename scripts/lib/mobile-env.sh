# The phone libraries' build settings beyond the feature set (sourced by
# build-android.sh and lib-sizes.sh; bindings/swift/build-xcframework.sh
# should take the same). Each one only removes what the phone never runs;
# the byte counts are for the stripped aarch64 library.
#
# The bundled SQLite without the extensions libsqlite3-sys turns on (full-text
# search, R-tree, dbstat, STAT4, soundex) nor extension loading, shared cache
# and deprecated APIs: the phone's SQL uses none of them. JSON stays: a
# migration (core/src/store/schema.rs) reads records with json_extract.
# Desktop, server and test builds keep the full SQLite.
export LIBSQLITE3_FLAGS="-USQLITE_ENABLE_FTS3 -USQLITE_ENABLE_FTS3_PARENTHESIS -USQLITE_ENABLE_FTS5
  -USQLITE_ENABLE_RTREE -USQLITE_ENABLE_DBSTAT_VTAB -USQLITE_ENABLE_STAT4 -USQLITE_SOUNDEX
  -USQLITE_ENABLE_LOAD_EXTENSION -DSQLITE_OMIT_LOAD_EXTENSION
  -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED"
