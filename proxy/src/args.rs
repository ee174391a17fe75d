//! The command line, with haproxy's flags and meanings, so that `fulcrum` replaces `haproxy`
//! in service files and scripts unchanged.

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// `-f FILE|DIR` (repeatable) and files after `--`.
    pub config_files: Vec<PathBuf>,
    /// `-c`: check the configuration and exit.
    pub check_only: bool,
    /// `-d`: foreground with debug output.
    pub debug: bool,
    /// `-db`: do not go to the background even if the config says `daemon`.
    pub no_background: bool,
    /// `-D`: daemon mode.
    pub daemon: bool,
    /// `-W`/`-Ws`: master-worker mode.
    pub master_worker: bool,
    /// `-p PIDFILE`.
    pub pidfile: Option<PathBuf>,
    /// `-v` (1) or `-vv` (2).
    pub version: u8,
    /// `-cc EXPR`: evaluate a condition and exit.
    pub check_condition: Option<String>,
    /// `-L NAME`: the local peer name.
    pub local_peer: Option<String>,
    /// `-sf PID...`: old processes to ask to finish once we listen.
    pub soft_finish: Vec<i32>,
    /// `-st PID...`: old processes to stop once we listen.
    pub terminate: Vec<i32>,
    /// `-q`: quiet.
    pub quiet: bool,
    /// `-V`: verbose.
    pub verbose: bool,
    /// `-n N`: global maxconn override.
    pub maxconn: Option<u32>,
    /// `-C DIR`: change to this directory before loading files.
    pub chdir: Option<PathBuf>,
    /// `-dD`: show `.diag` messages.
    pub diag: bool,
}

/// A command line that cannot be used, with haproxy-like wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgsError(pub String);

impl std::fmt::Display for ArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The usage text shown on a bad command line.
pub const USAGE: &str = "Usage : fulcrum [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ]
        [ -p <pidfile> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dD enables diagnostic mode
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -L set local peer name (default to hostname)
        -sf/-st [pid ]* finishes/terminates old pids.
";

impl Args {
    /// Parses the arguments after the program name.
    pub fn parse<I, S>(argv: I) -> Result<Args, ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let argv: Vec<String> = argv.into_iter().map(Into::into).collect();
        let mut a = Args::default();
        let mut i = 0;
        let value = |i: &mut usize, flag: &str| -> Result<String, ArgsError> {
            *i += 1;
            argv.get(*i)
                .cloned()
                .ok_or_else(|| ArgsError(format!("'{flag}' needs an argument")))
        };
        while i < argv.len() {
            let arg = argv[i].as_str();
            match arg {
                "--" => {
                    a.config_files
                        .extend(argv[i + 1..].iter().map(PathBuf::from));
                    break;
                }
                "-f" => a.config_files.push(PathBuf::from(value(&mut i, arg)?)),
                "-c" => a.check_only = true,
                "-d" => a.debug = true,
                "-db" => a.no_background = true,
                "-dD" => a.diag = true,
                "-D" => a.daemon = true,
                "-W" | "-Ws" => a.master_worker = true,
                "-p" => a.pidfile = Some(PathBuf::from(value(&mut i, arg)?)),
                "-v" => a.version = a.version.max(1),
                "-vv" => a.version = 2,
                "-cc" => a.check_condition = Some(value(&mut i, arg)?),
                "-L" => a.local_peer = Some(value(&mut i, arg)?),
                "-q" => a.quiet = true,
                "-V" => a.verbose = true,
                "-C" => a.chdir = Some(PathBuf::from(value(&mut i, arg)?)),
                "-n" => {
                    let v = value(&mut i, arg)?;
                    a.maxconn = Some(
                        v.parse()
                            .map_err(|_| ArgsError(format!("'-n' expects a number, not '{v}'")))?,
                    );
                }
                "-sf" | "-st" => {
                    // Like haproxy, every following numeric word is a PID.
                    let list = if arg == "-sf" {
                        &mut a.soft_finish
                    } else {
                        &mut a.terminate
                    };
                    while let Some(pid) = argv.get(i + 1).and_then(|w| w.parse::<i32>().ok()) {
                        if pid <= 0 {
                            return Err(ArgsError(format!("'{arg}' expects PIDs, not '{pid}'")));
                        }
                        list.push(pid);
                        i += 1;
                    }
                }
                _ if arg.starts_with('-') => {
                    return Err(ArgsError(format!(
                        "unknown option '{arg}' (Fulcrum does not support it)"
                    )))
                }
                // haproxy takes a bare word as a config file only after `--`.
                _ => return Err(ArgsError(format!("unexpected argument '{arg}'"))),
            }
            i += 1;
        }
        if a.config_files.is_empty() && a.version == 0 && a.check_condition.is_none() {
            return Err(ArgsError(
                "No configuration file specified (use -f FILE).".into(),
            ));
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_service_command_line() {
        let a = Args::parse([
            "-Ws",
            "-f",
            "/etc/haproxy/haproxy.cfg",
            "-p",
            "/run/haproxy.pid",
        ])
        .unwrap();
        assert!(a.master_worker);
        assert_eq!(
            a.config_files,
            vec![PathBuf::from("/etc/haproxy/haproxy.cfg")]
        );
        assert_eq!(a.pidfile, Some(PathBuf::from("/run/haproxy.pid")));
    }

    #[test]
    fn repeated_files_and_double_dash() {
        let a = Args::parse(["-f", "a.cfg", "-f", "conf.d", "--", "x.cfg", "y.cfg"]).unwrap();
        let names: Vec<_> = a.config_files.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(names, ["a.cfg", "conf.d", "x.cfg", "y.cfg"]);
    }

    #[test]
    fn sf_takes_every_following_pid() {
        let a = Args::parse(["-f", "a.cfg", "-sf", "12", "34", "-q"]).unwrap();
        assert_eq!(a.soft_finish, vec![12, 34]);
        assert!(a.quiet);
        let a = Args::parse(["-f", "a.cfg", "-st", "7"]).unwrap();
        assert_eq!(a.terminate, vec![7]);
    }

    #[test]
    fn version_and_condition_need_no_file() {
        assert_eq!(Args::parse(["-vv"]).unwrap().version, 2);
        assert_eq!(
            Args::parse(["-cc", "version_atleast(2.4)"])
                .unwrap()
                .check_condition
                .as_deref(),
            Some("version_atleast(2.4)")
        );
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert!(Args::parse(Vec::<String>::new())
            .unwrap_err()
            .0
            .contains("No configuration"));
        assert!(Args::parse(["-f"])
            .unwrap_err()
            .0
            .contains("needs an argument"));
        assert!(Args::parse(["-f", "a", "-Z"])
            .unwrap_err()
            .0
            .contains("unknown option '-Z'"));
        assert!(Args::parse(["-f", "a", "-n", "x"])
            .unwrap_err()
            .0
            .contains("expects a number"));
    }
}
