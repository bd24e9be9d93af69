/// The one helper the importer's sources need from Sources/KDC/Graph (Layer.swift), which the
/// fuzz program does not compile: the same function, for this build only.
func checkShape(_ ok: Bool, _ layer: String, _ message: @autoclosure () -> String) throws {
    if !ok { throw KDCError.graph(layer: layer, message: message()) }
}
