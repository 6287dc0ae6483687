/// A placeholder until the OpenAPI document (branch `clients`) is merged: it names the service
/// and points at API.md, and is replaced whole by that file.
public enum OpenAPIDocument {
    public static let json = """
        {"openapi": "3.1.0", "info": {"title": "flakebox serve", "version": "0", \
        "description": "Placeholder: the full document comes from branch clients."}, "paths": {}}
        """
}
