fn main() {
    std::process::exit(orc::cli::run());
}
