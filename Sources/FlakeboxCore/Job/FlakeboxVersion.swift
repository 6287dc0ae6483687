/// The version every summary carries.
public enum FlakeboxVersion {
    public static let current = "0.3.0"
}
