//! `fulcrum`: the proxy binary, a drop-in for `haproxy`.

fn main() {
    let code = fulcrum::app::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
