package eceeck.es;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.TreeSet;

import org.elasticsearch.common.settings.KeyStoreWrapper;

/**
 * Edits an Elasticsearch keystore (elasticsearch.keystore, empty password) with the server's own KeyStoreWrapper,
 * in place of the unpublished elasticsearch-keystore tool. Values are read from stdin, never from the arguments.
 *
 *   KeystoreTool CONFIG_DIR create          a new keystore (replaces any); bootstrap.password read from stdin
 *   KeystoreTool CONFIG_DIR set KEY         sets KEY to stdin (one trailing newline dropped)
 *   KeystoreTool CONFIG_DIR remove KEY      removes KEY (no error if absent)
 *   KeystoreTool CONFIG_DIR list            prints the setting names, one a line
 */
public final class KeystoreTool {
    private KeystoreTool() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        Path config = Path.of(args[0]);
        String command = args[1];
        switch (command) {
            case "create" -> {
                KeyStoreWrapper keystore = KeyStoreWrapper.create();
                KeyStoreWrapper.addBootstrapSeed(keystore);
                keystore.setString("bootstrap.password", readSecret());
                keystore.save(config, new char[0]);
            }
            case "set" -> {
                if (args.length != 3) {
                    usage();
                }
                KeyStoreWrapper keystore = load(config);
                keystore.setString(args[2], readSecret());
                keystore.save(config, new char[0]);
            }
            case "remove" -> {
                if (args.length != 3) {
                    usage();
                }
                KeyStoreWrapper keystore = load(config);
                if (keystore.getSettingNames().contains(args[2])) {
                    keystore.remove(args[2]);
                    keystore.save(config, new char[0]);
                }
            }
            case "list" -> {
                for (String name : new TreeSet<>(load(config).getSettingNames())) {
                    System.out.println(name);
                }
            }
            default -> usage();
        }
    }

    private static KeyStoreWrapper load(Path config) throws Exception {
        KeyStoreWrapper keystore = KeyStoreWrapper.load(config);
        if (keystore == null) {
            System.err.println("keystore: no elasticsearch.keystore in " + config);
            System.exit(2);
        }
        keystore.decrypt(new char[0]);
        return keystore;
    }

    private static char[] readSecret() throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.in.transferTo(buffer);
        String value = buffer.toString(StandardCharsets.UTF_8);
        if (value.endsWith("\n")) {
            value = value.substring(0, value.length() - 1);
        }
        if (value.isEmpty()) {
            System.err.println("keystore: empty value on stdin");
            System.exit(2);
        }
        return value.toCharArray();
    }

    private static void usage() {
        System.err.println("usage: KeystoreTool CONFIG_DIR (create | set KEY | remove KEY | list); values on stdin");
        System.exit(64);
    }
}
