fn main() -> std::process::ExitCode {
    shopsmart_deploy::error::exit(shopsmart_deploy::run())
}
