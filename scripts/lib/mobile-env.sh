# The phone libraries' build settings beyond the feature set (sourced by
# build-android.sh and lib-sizes.sh; bindings/swift/build-xcframework.sh
# should take the same). Each one only removes what the phone never runs;
# the byte counts are for the stripped aarch64 library.
#
# The bundled SQLite without what the phone's SQL never uses. Off: the
# extensions libsqlite3-sys turns on (full-text search, R-tree, dbstat,
# STAT4, soundex), extension loading, shared cache, deprecated APIs; and,
# measured on the stripped aarch64 stand-in (scripts/lib-sizes.sh), EXPLAIN,
# auto-vacuum, PRAGMA integrity_check and the introspection and
# compile-option pragmas, the date and time SQL functions, generated
# columns, incremental blob I/O, serialize/deserialize, the UTF-16 API, the
# authorizer, trace and progress hooks, sqlite3_complete and
# sqlite3_get_table (-0.07 MB in all). The phone's tests pass with these:
# `(source scripts/lib/mobile-env.sh; cargo test -p punch-core -p
# punch-sqlite -p punch-model)`. JSON stays (the schema and the photo queue
# read records with json_extract), as do ALTER TABLE, window functions and
# upserts. Omitting virtual tables, triggers, ATTACH, VACUUM or ANALYZE
# does not work with the amalgamation (its parser still calls what they
# remove: the test binaries fail to link), hence the check in lib-sizes.sh.
# Desktop, server and test builds keep the full SQLite.
export LIBSQLITE3_FLAGS="-USQLITE_ENABLE_FTS3 -USQLITE_ENABLE_FTS3_PARENTHESIS -USQLITE_ENABLE_FTS5
  -USQLITE_ENABLE_RTREE -USQLITE_ENABLE_DBSTAT_VTAB -USQLITE_ENABLE_STAT4 -USQLITE_SOUNDEX
  -USQLITE_ENABLE_LOAD_EXTENSION -DSQLITE_OMIT_LOAD_EXTENSION
  -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED
  -DSQLITE_OMIT_EXPLAIN -DSQLITE_OMIT_AUTOVACUUM -DSQLITE_OMIT_INTEGRITY_CHECK
  -DSQLITE_OMIT_INTROSPECTION_PRAGMAS -DSQLITE_OMIT_COMPILEOPTION_DIAGS -DSQLITE_OMIT_DATETIME_FUNCS
  -DSQLITE_OMIT_GENERATED_COLUMNS -DSQLITE_OMIT_INCRBLOB -DSQLITE_OMIT_DESERIALIZE -DSQLITE_OMIT_UTF16
  -DSQLITE_OMIT_AUTHORIZATION -DSQLITE_OMIT_TRACE -DSQLITE_OMIT_PROGRESS_CALLBACK
  -DSQLITE_OMIT_COMPLETE -DSQLITE_OMIT_GET_TABLE"

# The phone library is built as the cdylib alone (`cargo rustc --crate-type
# cdylib`), not beside punch-ffi's rlib and staticlib: with an rlib in the
# same compilation, LTO must keep every Rust-level public symbol of every
# crate, so less of what the app never calls is removed (-0.59 MB
# stripped on aarch64). build-android.sh and lib-sizes.sh build it so.
MOBILE_CARGO_ARGS=(--locked -p punch-ffi --lib --crate-type cdylib --no-default-features --profile release-ffi)

# Link settings for the shared library on Android (ELF, linked by the NDK's
# lld), beside the 16 KB page flags build-android.sh adds. Identical code
# folding merges the many byte-identical monomorphised functions (and their
# unwind entries); packed relocations replace the ~115 KB table of relative
# relocations (Android's own packing, read by the loader since API 23; our
# minSdk is 26). Each saves bytes without changing what runs. Not for the
# iOS static library: the app's linker links that.
ANDROID_LINK_FLAGS="-C link-arg=-Wl,--icf=all -C link-arg=-Wl,--pack-dyn-relocs=android"
# The same on the aarch64 Linux stand-in (scripts/lib-sizes.sh): rustup's
# lld, and glibc's packed relocations (RELR) in place of Android's format.
standin_lld="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/gcc-ld"
STANDIN_LINK_FLAGS="-C link-arg=-fuse-ld=lld -C link-arg=-B$standin_lld -C link-arg=-Wl,--icf=all -C link-arg=-Wl,-z,pack-relative-relocs"
unset standin_lld
