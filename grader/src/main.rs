fn main() {
    std::process::exit(grade::run());
}
