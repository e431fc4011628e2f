// What a ZipStore needs to parse an archive, loaded on its first read (zip-store.ts): the end
// records, the central directory, local headers.
export { findCentralDirectory, localDataStart, parseZip64End, ZIP64_END_SIZE } from "./zip-format.js";
export { ZipIndex } from "./zip-index.js";
