public enum TLVersion { public static let string = "0.1.0" }
