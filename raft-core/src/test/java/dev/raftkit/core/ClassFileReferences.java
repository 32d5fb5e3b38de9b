package dev.raftkit.core;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one compiled class refers to, read from its constant pool (JVMS §4.4): the classes it names
 * (as class constants and inside field, method and generic-signature descriptors) and the fields
 * and methods it uses. This is what the bytecode really uses, whatever the source looks like.
 *
 * @param className the class, internal form ({@code dev/raftkit/core/Ready})
 * @param types     every class named, internal form, arrays unwrapped
 * @param members   every field and method reference
 */
record ClassFileReferences(String className, Set<String> types, Set<Member> members) {

    /** A field or method reference: owner (internal form), name and descriptor. */
    record Member(String owner, String name, String descriptor) implements Comparable<Member> {

        @Override
        public int compareTo(Member o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return owner.replace('/', '.') + "." + name + descriptor;
        }
    }

    /** An object type inside a descriptor or signature: {@code Ljava/io/File;} or {@code Ljava/util/List<}. */
    private static final Pattern OBJECT_TYPE = Pattern.compile("L([A-Za-z_$][\\w$]*(?:/[\\w$]+)*)[;<]");

    private static final int UTF8 = 1, INTEGER = 3, FLOAT = 4, LONG = 5, DOUBLE = 6, CLASS = 7, STRING = 8,
            FIELD = 9, METHOD = 10, INTERFACE_METHOD = 11, NAME_AND_TYPE = 12, METHOD_HANDLE = 15,
            METHOD_TYPE = 16, DYNAMIC = 17, INVOKE_DYNAMIC = 18, MODULE = 19, PACKAGE = 20;

    /** Reads the constant pool of the class file in {@code in} (the stream is not closed). */
    static ClassFileReferences read(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        if (data.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file (bad magic)");
        }
        data.readUnsignedShort(); // minor version
        data.readUnsignedShort(); // major version
        int count = data.readUnsignedShort();
        int[] tag = new int[count];
        int[] first = new int[count];
        int[] second = new int[count];
        String[] utf8 = new String[count];
        for (int i = 1; i < count; i++) {
            tag[i] = data.readUnsignedByte();
            switch (tag[i]) {
                case UTF8 -> utf8[i] = data.readUTF();
                case INTEGER, FLOAT -> data.readInt();
                case LONG, DOUBLE -> {
                    data.readLong();
                    i++; // eight-byte constants take two slots (JVMS §4.4.5)
                }
                case CLASS, STRING, METHOD_TYPE, MODULE, PACKAGE -> first[i] = data.readUnsignedShort();
                case FIELD, METHOD, INTERFACE_METHOD, NAME_AND_TYPE, DYNAMIC, INVOKE_DYNAMIC -> {
                    first[i] = data.readUnsignedShort();
                    second[i] = data.readUnsignedShort();
                }
                case METHOD_HANDLE -> {
                    data.readUnsignedByte();
                    first[i] = data.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant-pool tag " + tag[i] + " at entry " + i);
            }
        }
        data.readUnsignedShort(); // access flags
        String className = utf8[first[data.readUnsignedShort()]];

        Set<String> types = new TreeSet<>();
        Set<Member> members = new TreeSet<>();
        for (int i = 1; i < count; i++) {
            switch (tag[i]) {
                case CLASS -> addClass(utf8[first[i]], types);
                case UTF8 -> addDescriptorTypes(utf8[i], types);
                case FIELD, METHOD, INTERFACE_METHOD -> {
                    int nameAndType = second[i];
                    members.add(new Member(utf8[first[first[i]]], utf8[first[nameAndType]],
                            utf8[second[nameAndType]]));
                }
                default -> { }
            }
        }
        return new ClassFileReferences(className, types, members);
    }

    /** A class constant is an internal name, or an array descriptor ({@code [Ljava/io/File;}). */
    private static void addClass(String name, Set<String> types) {
        if (name.startsWith("[")) {
            addDescriptorTypes(name, types);
        } else {
            types.add(name);
        }
    }

    private static void addDescriptorTypes(String text, Set<String> types) {
        Matcher m = OBJECT_TYPE.matcher(text);
        while (m.find()) {
            types.add(m.group(1));
        }
    }
}
