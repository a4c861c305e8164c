// The runtime of the single-memory builds: upstream's "minimal" runtime (TLSF + TCMS) with the
// patched TLSF of ./tlsf.ts (large blocks; see its header). asconfig.json selects it.
import "./tlsf";
import "./tcms";
