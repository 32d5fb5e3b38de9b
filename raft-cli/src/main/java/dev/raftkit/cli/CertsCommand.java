package dev.raftkit.cli;

import dev.raftkit.cli.certs.CertificateMinter;
import dev.raftkit.grpc.MessageCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit certs}: a CA and the node, client and admin certificates of one cluster, in one
 * step, with the flags to use them.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"Mint a certificate authority for a cluster and certificates for its nodes, clients and admins"
                + " (mutual TLS). Each certificate names what it may do: raftkit://CLUSTER/node/ID (peer traffic as"
                + " that node only), raftkit://CLUSTER/client/NAME (sessions, commands, reads, status),"
                + " raftkit://CLUSTER/admin/NAME (also membership, leadership transfer, backups, peers).",
                "An existing CA in --dir (ca.pem, ca.key) is reused: run again to add a node or to renew certificates"
                        + " (running nodes pick up renewed files without a restart). Every file is written 0600."},
        footer = {"", "Example:",
                "  raftkit certs --cluster-id demo --dir certs --nodes 1,2,3 --hosts 127.0.0.1,localhost \\",
                "      --clients app --admins ops",
                "", "Keep ca.key away from the nodes: whoever holds it can mint an admin certificate.",
                "", "Exit codes: 0 written, 1 could not write, 2 bad arguments."})
final class CertsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--cluster-id", required = true, paramLabel = "NAME", description = "The cluster the certificates are for.")
    String clusterId;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Where to write (created 0700 if missing).")
    Path dir;

    @Option(names = "--nodes", paramLabel = "IDS", split = ",", description = "Node ids to issue certificates for (node-ID.pem, node-ID.key).")
    List<Long> nodes = List.of();

    @Option(names = "--hosts", paramLabel = "HOSTS", split = ",", defaultValue = "127.0.0.1,localhost",
            description = "IP addresses and DNS names the nodes are reached at, put in every node certificate (default 127.0.0.1,localhost).")
    List<String> hosts;

    @Option(names = "--clients", paramLabel = "NAMES", split = ",", description = "Application names (client-NAME.pem, client-NAME.key).")
    List<String> clients = List.of();

    @Option(names = "--admins", paramLabel = "NAMES", split = ",", description = "Operator names (admin-NAME.pem, admin-NAME.key).")
    List<String> admins = List.of();

    @Option(names = "--days", paramLabel = "N", defaultValue = "365",
            description = "Validity of the certificates issued now, in days (default 365; a new CA: ten times that).")
    int days;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        try {
            MessageCodec.checkClusterId(clusterId);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--cluster-id: " + e.getMessage());
        }
        if (days < 1 || days > 36_500) {
            throw new ParameterException(cl, "--days must be in 1..36500, got " + days);
        }
        for (long n : nodes) {
            if (n <= 0) {
                throw new ParameterException(cl, "--nodes: node ids are positive numbers, got " + n);
            }
        }
        if (nodes.isEmpty() && clients.isEmpty() && admins.isEmpty()) {
            throw new ParameterException(cl, "nothing to issue: give --nodes, --clients and/or --admins");
        }
        PrintWriter out = cl.getOut();
        List<CertificateMinter.Issued> issued = new ArrayList<>();
        CertificateMinter minter;
        try {
            minter = CertificateMinter.open(dir, clusterId, Duration.ofDays(days));
            for (long n : new LinkedHashSet<>(nodes)) {
                issued.add(minter.node(n, hosts));
            }
            for (String c : new LinkedHashSet<>(clients)) {
                issued.add(minter.client(c));
            }
            for (String a : new LinkedHashSet<>(admins)) {
                issued.add(minter.admin(a));
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        } catch (IOException e) {
            PrintWriter err = cl.getErr();
            err.println("raftkit certs: " + e.getMessage());
            err.flush();
            return 1;
        }
        out.println((minter.caCreated() ? "created the CA of cluster '" : "reused the CA of cluster '") + clusterId
                + "': " + minter.caCertificate() + " (its key " + minter.caKey()
                + " mints certificates: keep it off the nodes)");
        for (CertificateMinter.Issued i : issued) {
            out.println((i.replaced() ? "renewed " : "wrote   ") + i.certificate() + " + " + i.key() + "  "
                    + i.identity().uri());
        }
        out.println();
        String ca = " --tls-ca " + minter.caCertificate();
        for (CertificateMinter.Issued i : issued) {
            String flags = "--tls-cert " + i.certificate() + " --tls-key " + i.key() + ca;
            switch (i.identity().role()) {
                case NODE -> out.println("raftkit server --id " + i.identity().name() + " ... " + flags);
                case CLIENT -> out.println("client " + i.identity().name() + " (kv, sql, status): " + flags);
                case ADMIN -> out.println("admin " + i.identity().name() + " (member, transfer, backup, and all a client may): "
                        + flags);
            }
        }
        out.flush();
        return 0;
    }
}
