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
