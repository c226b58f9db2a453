package eceeck.es;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.PluginsLoader;

/**
 * Starts an Elasticsearch node in this JVM, without the server CLI (which is not published): reads elasticsearch.yml
 * and the keystore from the config folder, configures logging, loads modules/ with Elasticsearch's own plugin loader
 * and starts a Node. No SecurityManager, no native controllers, no bootstrap checks (loopback only, for tests).
 * Path of the home: -Des.path.home, of the config folder: -Des.path.conf. Stops on SIGTERM or when stdin closes.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Path home = Path.of(System.getProperty("es.path.home")).toAbsolutePath();
        Path config = Path.of(System.getProperty("es.path.conf")).toAbsolutePath();
        LogConfigurator.registerErrorListener();
        LogConfigurator.configureESLogging(); // reading elasticsearch.yml already logs
        Settings input = Settings.builder().put(Environment.PATH_HOME_SETTING.getKey(), home.toString()).build();
        Environment plain = InternalSettingsPreparer.prepareEnvironment(input, Map.of(), config, () -> "node");

        KeyStoreWrapper keystore = KeyStoreWrapper.load(config);
        if (keystore != null) {
            keystore.decrypt(new char[0]);
        }
        Settings.Builder builder = Settings.builder().put(plain.settings());
        if (keystore != null) {
            builder.setSecureSettings(keystore);
        }
        Environment environment = new Environment(builder.build(), config);

        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(environment.settings()));
        LogConfigurator.configure(environment, true);

        Files.createDirectories(environment.pluginsDir());
        var modules = PluginsLoader.loadModulesBundles(environment.modulesDir());
        var plugins = PluginsLoader.loadPluginsBundles(environment.pluginsDir());
        PluginsLoader loader = PluginsLoader.createPluginsLoader(modules, plugins, Map.of());

        Node node = new Node(environment, loader);
        if (keystore != null) {
            keystore.close(); // secure settings are read while the node is constructed
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.prepareForClose();
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "launcher-shutdown"));
        node.start();
        System.out.println("LAUNCHER: node started");
        System.out.flush();

        // The parent closing our stdin (or dying) stops the node, as with Elasticsearch's own CLI.
        Thread monitor = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // ignore input
                }
            } catch (Exception ignored) {
                // treated as closed
            }
            System.exit(0);
        }, "launcher-stdin-monitor");
        monitor.setDaemon(true);
        monitor.start();
        stopped.await();
    }
}
