fn main() {
    eprintln!("fulcrum-ha: not implemented yet");
    std::process::exit(1);
}
