package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs Debian's prometheus-node-exporter on the same sysfs fixture trees and checks that every
 * InfiniBand state, rate and counter gpuwarden reads equals node_exporter's value for it. CI
 * installs the package; without it (and outside CI) the test is skipped, in CI it fails.
 */
class NodeExporterCrossCheckTest {
  private static final Path BINARY = Path.of("/usr/bin/prometheus-node-exporter");
  private static final Pattern LINE = Pattern.compile("(node_infiniband_\\w+)\\{([^}]*)\\} (\\S+)");

  /** counters/ file name to node_exporter 1.5 metric name. */
  private static final Map<String, String> COUNTERS = Map.ofEntries(
      Map.entry("symbol_error", "node_infiniband_symbol_error_total"),
      Map.entry("link_error_recovery", "node_infiniband_link_error_recovery_total"),
      Map.entry("link_downed", "node_infiniband_link_downed_total"),
      Map.entry("port_rcv_errors", "node_infiniband_port_errors_received_total"),
      Map.entry("port_rcv_remote_physical_errors", "node_infiniband_port_receive_remote_physical_errors_total"),
      Map.entry("port_rcv_switch_relay_errors", "node_infiniband_port_receive_switch_relay_errors_total"),
      Map.entry("port_xmit_discards", "node_infiniband_port_discards_transmitted_total"),
      Map.entry("port_xmit_constraint_errors", "node_infiniband_port_constraint_errors_transmitted_total"),
      Map.entry("port_rcv_constraint_errors", "node_infiniband_port_constraint_errors_received_total"),
      Map.entry("local_link_integrity_errors", "node_infiniband_local_link_integrity_errors_total"),
      Map.entry("excessive_buffer_overrun_errors", "node_infiniband_excessive_buffer_overrun_errors_total"),
      Map.entry("VL15_dropped", "node_infiniband_vl15_dropped_total"),
      Map.entry("port_xmit_wait", "node_infiniband_port_transmit_wait_total"),
      Map.entry("port_xmit_data", "node_infiniband_port_data_transmitted_bytes_total"),
      Map.entry("port_rcv_data", "node_infiniband_port_data_received_bytes_total"),
      Map.entry("port_xmit_packets", "node_infiniband_port_packets_transmitted_total"),
      Map.entry("port_rcv_packets", "node_infiniband_port_packets_received_total"),
      Map.entry("unicast_xmit_packets", "node_infiniband_unicast_packets_transmitted_total"),
      Map.entry("unicast_rcv_packets", "node_infiniband_unicast_packets_received_total"),
      Map.entry("multicast_xmit_packets", "node_infiniband_multicast_packets_transmitted_total"),
      Map.entry("multicast_rcv_packets", "node_infiniband_multicast_packets_received_total"));

  @ParameterizedTest
  @ValueSource(strings = {"healthy-8x-ndr", "port-down", "degraded-rate", "flapping-link", "saturated"})
  void everyStateRateAndCounterEqualsNodeExporters(String tree) throws Exception {
    boolean ci = "true".equals(System.getenv("CI"));
    if (!ci) {
      Assumptions.assumeTrue(Files.isExecutable(BINARY), "prometheus-node-exporter is not installed (CI installs it)");
    }
    assertThat(BINARY).as("CI must install prometheus-node-exporter").isExecutable();
    Path root = InfinibandSysfsTest.fixture(tree).toAbsolutePath();
    Map<String, Double> metrics = scrape(root);

    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    List<InfinibandPortSample> ports = sysfs.sample(Instant.now());
    assertThat(ports).isNotEmpty();
    int compared = 0;
    for (InfinibandPortSample p : ports) {
      String labels = "device=\"" + p.getHca() + "\",port=\"" + p.getPort() + "\"";
      assertThat(metrics.get("node_infiniband_state_id{" + labels + "}")).as("state of %s", labels).isEqualTo((double) p.getState());
      assertThat(metrics.get("node_infiniband_physical_state_id{" + labels + "}")).as("phys_state of %s", labels)
          .isEqualTo((double) p.getPhysState());
      assertThat(metrics.get("node_infiniband_rate_bytes_per_second{" + labels + "}")).as("rate of %s", labels)
          .isEqualTo(p.getRateBitsPerSecond() / 8.0);
      compared += 3;
      for (Map.Entry<String, String> c : COUNTERS.entrySet()) {
        Long ours = p.getCountersMap().get(c.getKey());
        Double theirs = metrics.get(c.getValue() + "{" + labels + "}");
        assertThat(ours).as("gpuwarden reads %s of %s", c.getKey(), labels).isNotNull();
        assertThat(theirs).as("node_exporter exports %s of %s", c.getValue(), labels).isNotNull();
        assertThat((double) ours).as("%s of %s", c.getKey(), labels).isEqualTo(theirs);
        compared++;
      }
    }
    for (InfinibandPortInfo info : sysfs.inventory()) {
      assertThat(metrics.keySet()).anySatisfy(k -> assertThat(k).startsWith("node_infiniband_info{")
          .contains("board_id=\"" + info.getBoardId() + "\"").contains("device=\"" + info.getHca() + "\"")
          .contains("firmware_version=\"" + info.getFirmwareVersion() + "\""));
    }
    assertThat(compared).isEqualTo(ports.size() * (3 + COUNTERS.size()));
  }

  private static Map<String, Double> scrape(Path root) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process p = new ProcessBuilder(BINARY.toString(), "--path.sysfs=" + root, "--collector.disable-defaults",
        "--collector.infiniband", "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .timeout(Duration.ofSeconds(5)).build();
      String body = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (body == null) {
        try {
          body = http.send(req, HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
          if (System.nanoTime() > deadline || !p.isAlive()) {
            throw new AssertionError("node_exporter did not answer on port " + port, e);
          }
          Thread.sleep(100);
        }
      }
      Map<String, Double> out = new HashMap<>();
      for (String line : body.split("\n")) {
        Matcher m = LINE.matcher(line);
        if (m.matches()) {
          out.put(m.group(1) + "{" + m.group(2) + "}", Double.parseDouble(m.group(3)));
        }
      }
      assertThat(out).as("node_exporter exported InfiniBand metrics; scrape was:%n%s", body).isNotEmpty();
      return out;
    } finally {
      p.destroy();
      p.waitFor(5, TimeUnit.SECONDS);
    }
  }
}
