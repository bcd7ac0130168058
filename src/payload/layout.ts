// The payload directory: the provider binary with its own dynamic loader and exactly the shared
// libraries it needs, so that it runs on any node whatever the host's C library. One layout
// everywhere: dist/payload/linux-<arch>/ (npm run build:binary), in the image, and on the host.
//
//   <dir>/aliyun-acr-credential-provider   the single-file binary (Node SEA)
//   <dir>/lib/ld-linux-*.so.*              glibc's dynamic loader, the one the libraries belong to
//   <dir>/lib/lib*.so.*                    the binary's ELF NEEDED closure
//   <dir>/doc/…                            licences of what is shipped
//   <dir>/manifest.json                    what the directory holds (manifest.ts)

/** The binary's file name inside a payload directory. */
export const PAYLOAD_BINARY = 'aliyun-acr-credential-provider';
/** The directory, relative to the payload, holding the loader and the libraries. */
export const PAYLOAD_LIB_DIR = 'lib';
export const PAYLOAD_MANIFEST = 'manifest.json';
/** Where the image carries the payload of its architecture (the entrypoint links into it). */
export const IMAGE_PAYLOAD_DIR = '/usr/lib/aliyun-acr-credential-provider/payload';

/** File names of glibc's dynamic loaders: ld-linux-x86-64.so.2, ld-linux-aarch64.so.1. */
export const LOADER_NAME = /^ld-linux-[a-z0-9_-]+\.so\.[0-9]+$/;
