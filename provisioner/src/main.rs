fn main() -> std::process::ExitCode {
    shopsmart_deploy::run()
}
