package manifest

// ProtocolVersion is the version of docs/protocol.md that the packages
// under crypto/ implement: `ballotd version` and `scrutineer version`
// print it, and TestProtocolVersionIsTheSpec keeps it equal to the
// version in the specification's title.
const ProtocolVersion = 7
